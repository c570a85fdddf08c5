"""An extra check for .ci/schemathesis (docs/security.md, "Schemathesis").

positive_data_acceptance is configured to let schema-valid requests get 422: the domain has rules
no JSON Schema states (a date not in the future, a role that fits the organisation, a password
that is not common, text that is not only blanks). This check keeps that allowance narrow: a 422
for schema-valid data must name a domain rule, never a shape problem (a type, a missing or
unknown field, an unknown enum value, a length or range) that the document should have stated.
"""

import json

import schemathesis
from schemathesis import CheckContext, Response
from schemathesis.core.failures import Failure

# Codes from the JSON and query extractors (crates/handover-api/src/extract.rs), and the lengths
# and counts the document states (maxLength, maxItems). `out_of_range` is not among them: the
# domain also uses it for date windows, which JSON Schema cannot state.
SHAPE_CODES = {
    "unknown_field",
    "missing_field",
    "invalid_type",
    "invalid_value",
    "invalid_query",
    "too_long",
    "too_many",
}


@schemathesis.check
def valid_data_refused_only_by_domain_rules(ctx: CheckContext, response: Response, case) -> None:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    try:
        problem = json.loads(response.content)
    except ValueError:
        problem = {}
    errors = problem.get("errors") if isinstance(problem, dict) else None
    codes = {e.get("code") for e in errors or [] if isinstance(e, dict)}
    shape = sorted(c for c in codes if c in SHAPE_CODES)
    if not codes or shape:
        raise Failure(
            operation=case.operation.label,
            title="Schema-valid request refused for its shape",
            message=f"422 with codes {sorted(codes, key=str) or 'none'}: the document does not state "
            f"what the service requires ({', '.join(shape) or 'no field named'})",
        )
    return None
