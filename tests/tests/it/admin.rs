#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

//! Administration: users, organisations and the audit log, as operator administrators, local
//! administrators and staff see them.

use handover_tests::{DEMO_PASSWORD, Res, TestApp, spawn_app, who};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::ops::Deref;
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// Harness: every answer is checked for leaked secrets.
// ---------------------------------------------------------------------------------------------

/// What must never appear in an answer: the column holding password hashes, or a hash itself.
const SECRET_MARKERS: [&str; 2] = ["password_hash", "argon2"];

/// The test app; its request methods check every answer for [`SECRET_MARKERS`].
struct App(TestApp);

impl Deref for App {
    type Target = TestApp;
    fn deref(&self) -> &TestApp {
        &self.0
    }
}

/// Fails when an answer (body or header) contains a secret marker. A marker the client sent
/// itself (e.g. an unknown field `password_hash`, named back in a 422) is the client's own input
/// echoed, not a leak.
fn assert_no_secrets(r: &Res, sent: &str, what: &str) {
    let headers: String = r
        .headers
        .iter()
        .map(|(k, v)| format!("{k}: {}\n", v.to_str().unwrap_or_default()))
        .collect();
    for m in SECRET_MARKERS {
        if sent.contains(m) {
            continue;
        }
        assert!(
            !r.text.contains(m),
            "{what}: answer body contains {m:?}: {}",
            r.text
        );
        assert!(
            !headers.contains(m),
            "{what}: answer headers contain {m:?}: {headers}"
        );
    }
}

impl App {
    async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Res {
        let r = self
            .0
            .request(method.clone(), path, token, body, headers)
            .await;
        let sent = format!("{path} {}", body.map(Value::to_string).unwrap_or_default());
        assert_no_secrets(&r, &sent, &format!("{method} {path}"));
        r
    }

    async fn get(&self, path: &str, token: &str) -> Res {
        self.request(Method::GET, path, Some(token), None, &[])
            .await
    }

    async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Res {
        self.request(Method::POST, path, token, Some(body), &[])
            .await
    }

    async fn patch(&self, path: &str, token: &str, body: &Value, if_match: Option<&str>) -> Res {
        let h: Vec<(&str, &str)> = if_match.map(|m| vec![("if-match", m)]).unwrap_or_default();
        self.request(Method::PATCH, path, Some(token), Some(body), &h)
            .await
    }

    async fn raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> Res {
        let sent = format!("{path} {}", String::from_utf8_lossy(&body));
        let r = self
            .0
            .raw(method.clone(), path, token, content_type, body)
            .await;
        assert_no_secrets(&r, &sent, &format!("{method} {path}"));
        r
    }

    async fn try_login(&self, email: &str, password: &str) -> Res {
        self.post(
            "/api/v1/auth/login",
            None,
            &json!({ "email": email, "password": password }),
        )
        .await
    }

    /// A login's access token, through the second step an administrator's login has.
    async fn access_token(&self, email: &str, password: &str) -> String {
        let mut r = self.try_login(email, password).await;
        if r.status == 202 {
            r = self.0.pass_second_step(email, &r).await;
        }
        assert_eq!(r.status, 200, "login {email}: {}", r.text);
        str_of(&r.body["access_token"])
    }
}

async fn spawn() -> App {
    App(spawn_app().await)
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn etag(v: i32) -> String {
    format!("\"{v}\"")
}

fn st(r: &Res) -> u16 {
    r.status.as_u16()
}

fn str_of(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_owned()
}

/// The ids of a list answer's items.
fn item_ids(r: &Res) -> Vec<String> {
    r.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {}", r.text))
        .iter()
        .map(|i| str_of(&i["id"]))
        .collect()
}

fn items(r: &Res) -> Vec<Value> {
    r.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {}", r.text))
        .clone()
}

/// The `(field, code)` pairs of a 422 answer.
fn field_codes(r: &Res) -> Vec<(String, String)> {
    r.body["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| (str_of(&e["field"]), str_of(&e["code"])))
                .collect()
        })
        .unwrap_or_default()
}

/// Asserts a 422 naming exactly these fields (in any order).
fn assert_invalid(r: &Res, fields: &[&str], ctx: &str) {
    assert_eq!(st(r), 422, "{ctx}: {}", r.text);
    r.assert_problem(422);
    let mut got = r.invalid_fields();
    got.sort();
    let mut want: Vec<String> = fields.iter().map(|f| (*f).to_owned()).collect();
    want.sort();
    assert_eq!(got, want, "{ctx}: {}", r.text);
}

/// Asserts a 422 naming one unknown field.
fn assert_unknown_field(r: &Res, field: &str, ctx: &str) {
    assert_invalid(r, &[field], ctx);
    assert_eq!(
        r.body["errors"][0]["code"], "unknown_field",
        "{ctx}: {}",
        r.text
    );
}

async fn user_version(app: &App, id: &str) -> i32 {
    sqlx::query_scalar::<_, i32>("SELECT version FROM users WHERE id::text = $1")
        .bind(id)
        .fetch_optional(&app.pool)
        .await
        .unwrap()
        .unwrap_or(1)
}

async fn org_version(app: &App, id: &str) -> i32 {
    sqlx::query_scalar::<_, i32>("SELECT version FROM organisations WHERE id::text = $1")
        .bind(id)
        .fetch_optional(&app.pool)
        .await
        .unwrap()
        .unwrap_or(1)
}

async fn count(app: &App, sql: &'static str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

async fn users_with_email(app: &App, email: &str) -> i64 {
    sqlx::query_scalar::<_, i64>("SELECT count(*) FROM users WHERE email = $1")
        .bind(email)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

async fn create_user(app: &App, token: &str, org: Uuid, role: &str, email: &str) -> Value {
    let r = app
        .post("/api/v1/users", Some(token), &json!({"email": email, "name": format!("Navn {email}"), "role": role, "organisation_id": org}))
        .await;
    assert_eq!(r.status, 201, "create {email}: {}", r.text);
    r.body
}

/// PATCHes a user with the current version as If-Match.
async fn patch_user(app: &App, token: &str, id: &str, body: &Value) -> Res {
    let m = etag(user_version(app, id).await);
    app.patch(&format!("/api/v1/users/{id}"), token, body, Some(&m))
        .await
}

/// PATCHes an organisation with the current version as If-Match.
async fn patch_org(app: &App, token: &str, id: &str, body: &Value) -> Res {
    let m = etag(org_version(app, id).await);
    app.patch(
        &format!("/api/v1/organisations/{id}"),
        token,
        body,
        Some(&m),
    )
    .await
}

async fn send_setup(app: &App, token: &str, id: &str) -> Res {
    app.request(
        Method::POST,
        &format!("/api/v1/users/{id}/password-setup-email"),
        Some(token),
        None,
        &[],
    )
    .await
}

/// Asserts the answer of `POST /users/{id}/password-setup-email`: 202 with exactly `sent_to`
/// (the account's own address), `kind` and `expires_at`, and never the link or its token.
/// Returns `expires_at`.
fn assert_setup_sent(r: &Res, email: &str, kind: &str, ctx: &str) -> time::OffsetDateTime {
    assert_eq!(st(r), 202, "{ctx}: {}", r.text);
    let keys: HashSet<&str> = r
        .body
        .as_object()
        .unwrap_or_else(|| panic!("{ctx}: not an object: {}", r.text))
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        HashSet::from(["sent_to", "kind", "expires_at"]),
        "{ctx}: {}",
        r.text
    );
    assert_eq!(r.body["sent_to"], email, "{ctx}: {}", r.text);
    assert_eq!(r.body["kind"], kind, "{ctx}: {}", r.text);
    assert!(
        !r.text.contains("token") && !r.text.contains("password-setup?"),
        "{ctx}: the answer shows the link: {}",
        r.text
    );
    time::OffsetDateTime::parse(
        &str_of(&r.body["expires_at"]),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap_or_else(|e| panic!("{ctx}: expires_at is not RFC 3339 ({e}): {}", r.text))
}

/// The detail of a 409 for an e-mail address that is taken, whoever holds it.
const EMAIL_TAKEN: &str = "This e-mail address cannot be registered here.";

/// Waits until `n` messages to `email` arrived (of any kind) and returns them, decoded.
async fn wait_mail_to(app: &App, email: &str, n: usize) -> Vec<(String, String)> {
    let start = std::time::Instant::now();
    loop {
        let mail = app.mail_to(email);
        if mail.len() >= n {
            return mail;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(15),
            "{n} messages to {email} did not arrive: {mail:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn use_setup_token(app: &App, token: &str, password: &str) -> Res {
    app.post(
        "/api/v1/auth/password-setup",
        None,
        &json!({"token": token, "new_password": password}),
    )
    .await
}

const GOOD_PASSWORD: &str = "korrekt hest batteri stift 42";

// ---------------------------------------------------------------------------------------------
// 1. The role matrix
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    /// GET /api/v1/users
    ListUsers,
    /// GET /api/v1/users?organisation_id={org}
    ListUsersOf,
    /// POST /api/v1/users with organisation_id = {org} and a role fitting it
    CreateUser,
    /// GET /api/v1/users/{user}
    GetUser,
    /// PATCH /api/v1/users/{user} (a new name)
    PatchUser,
    /// POST /api/v1/users/{user}/password-setup-email
    SetupEmail,
    /// GET /api/v1/organisations
    ListOrgs,
    /// GET /api/v1/organisations/{org}
    GetOrg,
    /// POST /api/v1/organisations
    CreateOrg,
    /// PATCH /api/v1/organisations/{org} (a new county)
    PatchOrg,
    /// GET /api/v1/audit-events
    Audit,
}

impl Route {
    /// The status of an allowed call.
    fn ok_status(self) -> u16 {
        match self {
            Route::CreateUser | Route::CreateOrg => 201,
            // The e-mail is queued, not sent yet.
            Route::SetupEmail => 202,
            _ => 200,
        }
    }

    /// Whether the route creates, changes or e-mails an account: the operator reaches those of
    /// other organisations only while they are (and stay) administrators (letter `a` in
    /// [`expect`]).
    fn manages_accounts(self) -> bool {
        matches!(
            self,
            Route::CreateUser | Route::PatchUser | Route::SetupEmail
        )
    }

    /// Whether the target is a user (every demo user of the target organisation is tried).
    fn targets_users(self) -> bool {
        matches!(self, Route::GetUser | Route::PatchUser | Route::SetupEmail)
    }
}

/// What a matrix row is aimed at.
#[derive(Debug, Clone, Copy)]
enum Target {
    /// The route has no target.
    Nothing,
    /// A demo organisation (index into the organisation list below), or its demo users.
    Org(usize),
    /// A well-formed id that names nothing.
    Missing,
    /// A path id that is not a UUID.
    NotUuid,
}

// The demo organisations, two of each kind besides the operator.
const OPER: usize = 0;
const KRS: usize = 1; // reception centre Kristiansand
const STJ: usize = 2; // reception centre Steinkjer
const AGD: usize = 3; // career centre Agder
const TRDCC: usize = 4; // career centre Trøndelag
const KKRS: usize = 5; // municipality Kristiansand (4204)
const KTRD: usize = 6; // municipality Trondheim (5001)
const ORG_NAMES: [&str; 7] = ["operator", "KRS", "STJ", "AGD", "TRDCC", "KKRS", "KTRD"];
/// The organisation of each account of `who::ALL`, in order.
const ORG_OF_ACCOUNT: [usize; 13] = [
    OPER, KRS, KRS, STJ, STJ, AGD, AGD, TRDCC, TRDCC, KKRS, KKRS, KTRD, KTRD,
];
/// Whether each account of `who::ALL` is an administrator (the operator's, then an
/// administrator and a staff member of each organisation).
const ADMIN_ACCOUNT: [bool; 13] = [
    true, true, false, true, false, true, false, true, false, true, false, true, false,
];
/// A role that fits each organisation's kind.
const FIT_ROLE: [&str; 7] = [
    "admin",
    "centre_staff",
    "centre_staff",
    "career_counsellor",
    "career_counsellor",
    "municipality_staff",
    "municipality_staff",
];

// Expectations, one letter per account of `who::ALL`, in this column order:
//
//   OP | KRS adm stf | STJ adm stf | AGD adm cns | TRDCC adm cns | KKRS adm stf | KTRD adm stf
//
// A = allowed (200, or 201 for a create, 202 for a setup e-mail), F = 403 Forbidden,
// N = 404 Not Found, a = allowed when the target account is an administrator and stays one
// (created with role `admin`, or an existing administrator whose role the call leaves alone),
// otherwise 404: the operator creates, changes and e-mails other organisations' administrators,
// never their staff accounts (issue "account takeover": a staff account reads participant data).
#[rustfmt::skip]
mod expect {
    pub const ANY_ADMIN: &str =     "A   A F   A F   A F   A F   A F   A F";
    pub const EVERYONE: &str =      "A   A A   A A   A A   A A   A A   A A";
    pub const OPERATOR_ONLY: &str = "A   F F   F F   F F   F F   F F   F F";
    pub const ALL_404: &str =       "N   N N   N N   N N   N N   N N   N N";
    pub const OPERATOR_404: &str =  "N   F F   F F   F F   F F   F F   F F";
    pub const IN_OPER: &str =       "A   N F   N F   N F   N F   N F   N F";
    pub const IN_KRS: &str =        "A   A F   N F   N F   N F   N F   N F";
    pub const IN_STJ: &str =        "A   N F   A F   N F   N F   N F   N F";
    pub const IN_AGD: &str =        "A   N F   N F   A F   N F   N F   N F";
    pub const IN_TRDCC: &str =      "A   N F   N F   N F   A F   N F   N F";
    pub const IN_KKRS: &str =       "A   N F   N F   N F   N F   A F   N F";
    pub const IN_KTRD: &str =       "A   N F   N F   N F   N F   N F   A F";
    /// Creating, changing or e-mailing accounts of an organisation other than the operator's.
    pub const ACCOUNTS_IN_KRS: &str =   "a   A F   N F   N F   N F   N F   N F";
    pub const ACCOUNTS_IN_STJ: &str =   "a   N F   A F   N F   N F   N F   N F";
    pub const ACCOUNTS_IN_AGD: &str =   "a   N F   N F   A F   N F   N F   N F";
    pub const ACCOUNTS_IN_TRDCC: &str = "a   N F   N F   N F   A F   N F   N F";
    pub const ACCOUNTS_IN_KKRS: &str =  "a   N F   N F   N F   N F   A F   N F";
    pub const ACCOUNTS_IN_KTRD: &str =  "a   N F   N F   N F   N F   N F   A F";
    pub const NOWHERE: &str =       "N   N F   N F   N F   N F   N F   N F";
    /// The operator sees an empty list; local admins get 404 for a filter naming another (or no)
    /// organisation.
    pub const LIST_NOWHERE: &str =  "A   N F   N F   N F   N F   N F   N F";
}
use expect::*;

/// (route, target, expectation per account).
const MATRIX: &[(Route, Target, &str)] = &[
    (Route::ListUsers, Target::Nothing, ANY_ADMIN),
    (Route::ListUsersOf, Target::Org(OPER), IN_OPER),
    (Route::ListUsersOf, Target::Org(KRS), IN_KRS),
    (Route::ListUsersOf, Target::Org(STJ), IN_STJ),
    (Route::ListUsersOf, Target::Org(AGD), IN_AGD),
    (Route::ListUsersOf, Target::Org(TRDCC), IN_TRDCC),
    (Route::ListUsersOf, Target::Org(KKRS), IN_KKRS),
    (Route::ListUsersOf, Target::Org(KTRD), IN_KTRD),
    (Route::ListUsersOf, Target::Missing, LIST_NOWHERE),
    (Route::CreateUser, Target::Org(OPER), IN_OPER),
    (Route::CreateUser, Target::Org(KRS), ACCOUNTS_IN_KRS),
    (Route::CreateUser, Target::Org(STJ), ACCOUNTS_IN_STJ),
    (Route::CreateUser, Target::Org(AGD), ACCOUNTS_IN_AGD),
    (Route::CreateUser, Target::Org(TRDCC), ACCOUNTS_IN_TRDCC),
    (Route::CreateUser, Target::Org(KKRS), ACCOUNTS_IN_KKRS),
    (Route::CreateUser, Target::Org(KTRD), ACCOUNTS_IN_KTRD),
    (Route::CreateUser, Target::Missing, NOWHERE),
    (Route::GetUser, Target::Org(OPER), IN_OPER),
    (Route::GetUser, Target::Org(KRS), IN_KRS),
    (Route::GetUser, Target::Org(STJ), IN_STJ),
    (Route::GetUser, Target::Org(AGD), IN_AGD),
    (Route::GetUser, Target::Org(TRDCC), IN_TRDCC),
    (Route::GetUser, Target::Org(KKRS), IN_KKRS),
    (Route::GetUser, Target::Org(KTRD), IN_KTRD),
    (Route::GetUser, Target::Missing, NOWHERE),
    (Route::GetUser, Target::NotUuid, ALL_404),
    (Route::PatchUser, Target::Org(OPER), IN_OPER),
    (Route::PatchUser, Target::Org(KRS), ACCOUNTS_IN_KRS),
    (Route::PatchUser, Target::Org(STJ), ACCOUNTS_IN_STJ),
    (Route::PatchUser, Target::Org(AGD), ACCOUNTS_IN_AGD),
    (Route::PatchUser, Target::Org(TRDCC), ACCOUNTS_IN_TRDCC),
    (Route::PatchUser, Target::Org(KKRS), ACCOUNTS_IN_KKRS),
    (Route::PatchUser, Target::Org(KTRD), ACCOUNTS_IN_KTRD),
    (Route::PatchUser, Target::Missing, NOWHERE),
    (Route::PatchUser, Target::NotUuid, ALL_404),
    (Route::SetupEmail, Target::Org(OPER), IN_OPER),
    (Route::SetupEmail, Target::Org(KRS), ACCOUNTS_IN_KRS),
    (Route::SetupEmail, Target::Org(STJ), ACCOUNTS_IN_STJ),
    (Route::SetupEmail, Target::Org(AGD), ACCOUNTS_IN_AGD),
    (Route::SetupEmail, Target::Org(TRDCC), ACCOUNTS_IN_TRDCC),
    (Route::SetupEmail, Target::Org(KKRS), ACCOUNTS_IN_KKRS),
    (Route::SetupEmail, Target::Org(KTRD), ACCOUNTS_IN_KTRD),
    (Route::SetupEmail, Target::Missing, NOWHERE),
    (Route::SetupEmail, Target::NotUuid, ALL_404),
    (Route::ListOrgs, Target::Nothing, EVERYONE),
    (Route::GetOrg, Target::Org(OPER), EVERYONE),
    (Route::GetOrg, Target::Org(KRS), EVERYONE),
    (Route::GetOrg, Target::Org(STJ), EVERYONE),
    (Route::GetOrg, Target::Org(AGD), EVERYONE),
    (Route::GetOrg, Target::Org(TRDCC), EVERYONE),
    (Route::GetOrg, Target::Org(KKRS), EVERYONE),
    (Route::GetOrg, Target::Org(KTRD), EVERYONE),
    (Route::GetOrg, Target::Missing, ALL_404),
    (Route::GetOrg, Target::NotUuid, ALL_404),
    (Route::CreateOrg, Target::Nothing, OPERATOR_ONLY),
    (Route::PatchOrg, Target::Org(OPER), OPERATOR_ONLY),
    (Route::PatchOrg, Target::Org(KRS), OPERATOR_ONLY),
    (Route::PatchOrg, Target::Org(STJ), OPERATOR_ONLY),
    (Route::PatchOrg, Target::Org(AGD), OPERATOR_ONLY),
    (Route::PatchOrg, Target::Org(TRDCC), OPERATOR_ONLY),
    (Route::PatchOrg, Target::Org(KKRS), OPERATOR_ONLY),
    (Route::PatchOrg, Target::Org(KTRD), OPERATOR_ONLY),
    (Route::PatchOrg, Target::Missing, OPERATOR_404),
    (Route::PatchOrg, Target::NotUuid, ALL_404),
    (Route::Audit, Target::Nothing, ANY_ADMIN),
];

/// One concrete target of a matrix row.
#[derive(Debug, Clone)]
struct Tgt {
    /// A user or organisation id (or junk).
    id: String,
    /// The role to create with (CreateUser).
    role: &'static str,
    /// Whether the target account is an administrator (for CreateUser: whether `role` is).
    admin: bool,
    /// The target account's e-mail address (user targets only).
    email: &'static str,
    /// Who the target is, for messages.
    label: String,
}

/// Makes one matrix call. `if_match`: send the current version with a PATCH.
async fn matrix_call(
    app: &App,
    route: Route,
    t: &Tgt,
    token: Option<&str>,
    n: usize,
    if_match: bool,
) -> Res {
    let id = &t.id;
    match route {
        Route::ListUsers => {
            app.request(Method::GET, "/api/v1/users", token, None, &[])
                .await
        }
        Route::ListUsersOf => {
            app.request(
                Method::GET,
                &format!("/api/v1/users?organisation_id={id}&limit=200"),
                token,
                None,
                &[],
            )
            .await
        }
        Route::CreateUser => {
            let body = json!({"email": format!("matrise.{n}@example.no"), "name": format!("Matrise {n}"), "role": t.role, "organisation_id": id});
            app.request(Method::POST, "/api/v1/users", token, Some(&body), &[])
                .await
        }
        Route::GetUser => {
            app.request(
                Method::GET,
                &format!("/api/v1/users/{id}"),
                token,
                None,
                &[],
            )
            .await
        }
        Route::PatchUser => {
            let m = etag(user_version(app, id).await);
            let h: Vec<(&str, &str)> = if if_match {
                vec![("if-match", m.as_str())]
            } else {
                Vec::new()
            };
            let body = json!({"name": format!("Endret navn {n}")});
            app.request(
                Method::PATCH,
                &format!("/api/v1/users/{id}"),
                token,
                Some(&body),
                &h,
            )
            .await
        }
        Route::SetupEmail => {
            app.request(
                Method::POST,
                &format!("/api/v1/users/{id}/password-setup-email"),
                token,
                None,
                &[],
            )
            .await
        }
        Route::ListOrgs => {
            app.request(Method::GET, "/api/v1/organisations", token, None, &[])
                .await
        }
        Route::GetOrg => {
            app.request(
                Method::GET,
                &format!("/api/v1/organisations/{id}"),
                token,
                None,
                &[],
            )
            .await
        }
        Route::CreateOrg => {
            let body = json!({"kind": "reception_centre", "name": format!("Matrisemottaket {n}")});
            app.request(
                Method::POST,
                "/api/v1/organisations",
                token,
                Some(&body),
                &[],
            )
            .await
        }
        Route::PatchOrg => {
            let m = etag(org_version(app, id).await);
            let h: Vec<(&str, &str)> = if if_match {
                vec![("if-match", m.as_str())]
            } else {
                Vec::new()
            };
            let body = json!({"county": format!("Fylke {n}")});
            app.request(
                Method::PATCH,
                &format!("/api/v1/organisations/{id}"),
                token,
                Some(&body),
                &h,
            )
            .await
        }
        Route::Audit => {
            app.request(
                Method::GET,
                "/api/v1/audit-events?limit=200",
                token,
                None,
                &[],
            )
            .await
        }
    }
}

#[tokio::test]
async fn role_matrix_of_every_admin_route_and_every_demo_account() {
    let app = spawn().await;
    let mut tokens = Vec::new();
    for email in who::ALL {
        tokens.push(app.token(email).await);
    }
    let mut orgs = [Uuid::nil(); 7];
    for (a, email) in who::ALL.iter().enumerate() {
        orgs[ORG_OF_ACCOUNT[a]] = app.org_of(email).await;
    }
    let mut user_ids = Vec::new();
    for email in who::ALL {
        user_ids.push(app.user_id(email).await);
    }

    let (mut cells, mut extra, mut n) = (0usize, 0usize, 0usize);
    // Setup e-mails the matrix had sent, per demo account.
    let mut setup_mails = [0usize; 13];
    for (route, target, expect) in MATRIX {
        let codes: Vec<char> = expect.chars().filter(|c| !c.is_whitespace()).collect();
        assert_eq!(
            codes.len(),
            who::ALL.len(),
            "bad table row {route:?} {target:?}"
        );
        assert!(
            route.manages_accounts() || !codes.contains(&'a'),
            "bad table row {route:?} {target:?}: `a` is for routes that manage accounts"
        );
        let targets: Vec<Tgt> = match *target {
            Target::Nothing => vec![Tgt {
                id: String::new(),
                role: "admin",
                admin: true,
                email: "",
                label: "-".into(),
            }],
            Target::Org(o) if route.targets_users() => (0..who::ALL.len())
                .filter(|a| ORG_OF_ACCOUNT[*a] == o)
                .map(|a| Tgt {
                    id: user_ids[a].to_string(),
                    role: "admin",
                    admin: ADMIN_ACCOUNT[a],
                    email: who::ALL[a],
                    label: format!("user {}", who::ALL[a]),
                })
                .collect(),
            // A user of the role that fits the organisation's kind, and (where that is not
            // `admin` already) an administrator.
            Target::Org(o) if *route == Route::CreateUser => {
                let mut roles = vec![FIT_ROLE[o]];
                if FIT_ROLE[o] != "admin" {
                    roles.push("admin");
                }
                roles
                    .into_iter()
                    .map(|role| Tgt {
                        id: orgs[o].to_string(),
                        role,
                        admin: role == "admin",
                        email: "",
                        label: format!("org {} (role {role})", ORG_NAMES[o]),
                    })
                    .collect()
            }
            Target::Org(o) => vec![Tgt {
                id: orgs[o].to_string(),
                role: FIT_ROLE[o],
                admin: FIT_ROLE[o] == "admin",
                email: "",
                label: format!("org {}", ORG_NAMES[o]),
            }],
            Target::Missing => vec![Tgt {
                id: Uuid::new_v4().to_string(),
                role: "admin",
                admin: true,
                email: "",
                label: "missing id".into(),
            }],
            Target::NotUuid => vec![Tgt {
                id: "not-a-uuid".into(),
                role: "admin",
                admin: true,
                email: "",
                label: "not a uuid".into(),
            }],
        };
        for t in &targets {
            for (a, email) in who::ALL.iter().enumerate() {
                n += 1;
                let want = match codes[a] {
                    'A' => route.ok_status(),
                    'a' if t.admin => route.ok_status(),
                    'a' => 404,
                    'F' => 403,
                    'N' => 404,
                    c => panic!("bad letter {c}"),
                };
                let ctx = format!("{route:?} on {} as {email}", t.label);
                let own_org = orgs[ORG_OF_ACCOUNT[a]];
                let is_operator = a == 0;
                let version_before = match route {
                    Route::PatchUser => user_version(&app, &t.id).await,
                    Route::PatchOrg => org_version(&app, &t.id).await,
                    _ => 0,
                };
                let r = matrix_call(&app, *route, t, Some(&tokens[a]), n, true).await;
                assert_eq!(st(&r), want, "{ctx}: {}", r.text);
                cells += 1;
                if want >= 400 {
                    r.assert_problem(want);
                    match route {
                        // Denied: nothing changed, and no If-Match does not turn it into a 428.
                        Route::PatchUser | Route::PatchOrg => {
                            let r2 = matrix_call(&app, *route, t, Some(&tokens[a]), n, false).await;
                            assert_eq!(st(&r2), want, "{ctx} without If-Match: {}", r2.text);
                            r2.assert_problem(want);
                            extra += 1;
                            let after = if *route == Route::PatchUser {
                                user_version(&app, &t.id).await
                            } else {
                                org_version(&app, &t.id).await
                            };
                            assert_eq!(
                                after, version_before,
                                "{ctx}: a denied PATCH changed the record"
                            );
                        }
                        Route::CreateUser => {
                            assert_eq!(
                                users_with_email(&app, &format!("matrise.{n}@example.no")).await,
                                0,
                                "{ctx}"
                            )
                        }
                        _ => {}
                    }
                    continue;
                }
                // Allowed: the answer is about the target and inside the caller's reach.
                match route {
                    Route::ListUsers => {
                        let expected_total: i64 = if is_operator {
                            count(&app, "SELECT count(*) FROM users").await
                        } else {
                            sqlx::query_scalar(
                                "SELECT count(*) FROM users WHERE organisation_id = $1",
                            )
                            .bind(own_org)
                            .fetch_one(&app.pool)
                            .await
                            .unwrap()
                        };
                        assert_eq!(r.body["total"], expected_total, "{ctx}");
                        if !is_operator {
                            for u in items(&r) {
                                assert_eq!(
                                    str_of(&u["organisation_id"]),
                                    own_org.to_string(),
                                    "{ctx}: foreign user listed"
                                );
                            }
                        }
                    }
                    Route::ListUsersOf => {
                        for u in items(&r) {
                            assert_eq!(
                                str_of(&u["organisation_id"]),
                                t.id,
                                "{ctx}: filter ignored"
                            );
                        }
                    }
                    Route::CreateUser => {
                        assert_eq!(str_of(&r.body["organisation_id"]), t.id, "{ctx}");
                        assert_eq!(r.body["role"], t.role, "{ctx}");
                    }
                    Route::GetUser => {
                        assert_eq!(str_of(&r.body["id"]), t.id, "{ctx}");
                        assert_eq!(
                            r.header("etag"),
                            Some(etag(user_version(&app, &t.id).await).as_str()),
                            "{ctx}"
                        );
                    }
                    Route::PatchUser => {
                        assert_eq!(r.body["name"], format!("Endret navn {n}"), "{ctx}");
                        assert_eq!(
                            r.header("etag"),
                            Some(etag(version_before + 1).as_str()),
                            "{ctx}"
                        );
                    }
                    Route::SetupEmail => {
                        // Demo accounts have a password: a reset, e-mailed to the account itself.
                        assert_setup_sent(&r, t.email, "reset", &ctx);
                        let i = who::ALL.iter().position(|e| *e == t.email).unwrap();
                        setup_mails[i] += 1;
                    }
                    Route::GetOrg => assert_eq!(str_of(&r.body["id"]), t.id, "{ctx}"),
                    Route::PatchOrg => {
                        assert_eq!(r.body["county"], format!("Fylke {n}"), "{ctx}");
                        assert_eq!(
                            r.header("etag"),
                            Some(etag(version_before + 1).as_str()),
                            "{ctx}"
                        );
                    }
                    Route::CreateOrg => assert_eq!(r.body["kind"], "reception_centre", "{ctx}"),
                    Route::ListOrgs => assert!(r.body["total"].as_i64().unwrap() >= 7, "{ctx}"),
                    Route::Audit => {
                        if is_operator {
                            assert_eq!(
                                r.body["total"],
                                count(&app, "SELECT count(*) FROM audit_log").await,
                                "{ctx}"
                            );
                        } else {
                            for e in items(&r) {
                                assert_eq!(
                                    str_of(&e["actor_org_id"]),
                                    own_org.to_string(),
                                    "{ctx}: foreign event: {e}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    // Every setup e-mail went to the account's own address, one per allowed call, and nowhere
    // else.
    for (a, email) in who::ALL.iter().enumerate() {
        assert!(setup_mails[a] > 0, "{email}: no setup e-mail tried");
        app.wait_setup_token(email, setup_mails[a]).await;
        assert_eq!(
            app.mailed_setup_tokens(email).len(),
            setup_mails[a],
            "{email}: setup e-mails"
        );
    }

    // Without a token, or with a token that is not one of ours, every route answers 401.
    let mut anonymous = 0usize;
    let krs_staff = Tgt {
        id: user_ids[2].to_string(),
        role: "centre_staff",
        admin: false,
        email: who::KRS_STAFF,
        label: "KRS staff".into(),
    };
    let krs_org = Tgt {
        id: orgs[KRS].to_string(),
        role: "centre_staff",
        admin: false,
        email: "",
        label: "KRS".into(),
    };
    let routes = [
        Route::ListUsers,
        Route::ListUsersOf,
        Route::CreateUser,
        Route::GetUser,
        Route::PatchUser,
        Route::SetupEmail,
        Route::ListOrgs,
        Route::GetOrg,
        Route::CreateOrg,
        Route::PatchOrg,
        Route::Audit,
    ];
    for route in routes {
        let t = if route.targets_users() {
            &krs_staff
        } else {
            &krs_org
        };
        for token in [None, Some("not.a.token")] {
            n += 1;
            let r = matrix_call(&app, route, t, token, n, true).await;
            assert_eq!(st(&r), 401, "{route:?} with token {token:?}: {}", r.text);
            r.assert_problem(401);
            assert_eq!(r.header("www-authenticate"), Some("Bearer"));
            anonymous += 1;
        }
    }
    println!(
        "admin role matrix: {cells} cells checked ({} rows x {} accounts), plus {extra} denied PATCHes repeated without If-Match and {anonymous} unauthenticated calls",
        MATRIX.len(),
        who::ALL.len()
    );
    assert!(cells > 800, "{cells}");
}

// ---------------------------------------------------------------------------------------------
// 2. Users
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn creating_a_user_answers_201_with_location_etag_and_no_secrets() {
    let app = spawn().await;
    let op = app.token(who::OPERATOR_ADMIN).await;
    let krs_admin = app.token(who::KRS_ADMIN).await;
    let krs = app.org_of(who::KRS_ADMIN).await;
    let before = app.audit_count("user.create", "success").await;
    let mails_before = app
        .audit_count("user.password_setup_email", "success")
        .await;

    // A staff account is created by its organisation's own administrator (the operator's may
    // not, see below).
    let r = app
        .post(
            "/api/v1/users",
            Some(&krs_admin),
            &json!({"email": "  Ny.Ansatt@Example.NO ", "name": "  Nora Ny  ", "role": "centre_staff", "organisation_id": krs}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = str_of(&r.body["id"]);
    assert_eq!(
        r.header("location"),
        Some(format!("/api/v1/users/{id}").as_str())
    );
    assert_eq!(r.header("etag"), Some("\"1\""));
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    // Exactly the public fields; no hash, no password.
    let keys: HashSet<&str> = r
        .body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let expected: HashSet<&str> = [
        "id",
        "organisation_id",
        "email",
        "name",
        "role",
        "active",
        "has_password",
        "version",
        "created_at",
        "updated_at",
    ]
    .into();
    assert_eq!(keys, expected, "{}", r.text);
    assert_eq!(
        r.body["email"], "ny.ansatt@example.no",
        "e-mail addresses are stored trimmed and in lower case"
    );
    assert_eq!(r.body["name"], "Nora Ny");
    assert_eq!(r.body["role"], "centre_staff");
    assert_eq!(str_of(&r.body["organisation_id"]), krs.to_string());
    assert_eq!(r.body["active"], true);
    assert_eq!(r.body["has_password"], false);
    assert_eq!(r.body["version"], 1);

    // The answer carries no setup link: that goes by e-mail to the new address only.
    assert!(
        !r.text.contains("token") && !r.text.contains("password-setup?"),
        "{}",
        r.text
    );

    // The Location answers the same user (the operator reads every organisation's users).
    let g = app.get(r.header("location").unwrap(), &op).await;
    assert_eq!(g.status, 200, "{}", g.text);
    assert_eq!(g.header("etag"), Some("\"1\""));
    assert_eq!(g.body, r.body);

    // In the database: no password yet, one audit row naming the actor and the target, with the
    // request id the answer carried.
    let hash: Option<String> =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE id::text = $1")
            .bind(&id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(hash.is_none());
    assert_eq!(app.audit_count("user.create", "success").await, before + 1);
    // The setup e-mail is queued with the account, and audited.
    let token = app.wait_setup_token("ny.ansatt@example.no", 1).await;
    assert!(token.len() >= 32, "{token}");
    assert_eq!(
        app.audit_count("user.password_setup_email", "success")
            .await,
        mails_before + 1
    );
    let mailed_for: Option<Uuid> = sqlx::query_scalar(
        "SELECT target_id FROM audit_log WHERE action = 'user.password_setup_email' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(mailed_for.map(|u| u.to_string()), Some(id.clone()));
    let (actor, actor_org, target_type, request_id): (Option<Uuid>, Option<Uuid>, Option<String>, Option<String>) = sqlx::query_as(
        "SELECT actor_user_id, actor_org_id, target_type, request_id FROM audit_log WHERE action = 'user.create' AND target_id::text = $1",
    )
    .bind(&id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(actor, Some(app.user_id(who::KRS_ADMIN).await));
    assert_eq!(actor_org, Some(krs));
    assert_eq!(target_type.as_deref(), Some("user"));
    assert_eq!(
        request_id.as_deref(),
        r.header("x-request-id"),
        "audit row should carry the request id"
    );

    // The new account cannot log in before a password is set.
    app.try_login("ny.ansatt@example.no", "")
        .await
        .assert_problem(401);
    app.try_login("ny.ansatt@example.no", DEMO_PASSWORD)
        .await
        .assert_problem(401);

    // A local admin creates users in their own organisation, of any fitting role.
    for (email, role) in [
        ("lokal.ansatt@example.no", "centre_staff"),
        ("lokal.admin@example.no", "admin"),
    ] {
        let r = app
            .post(
                "/api/v1/users",
                Some(&krs_admin),
                &json!({"email": email, "name": "Lokal", "role": role, "organisation_id": krs}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(str_of(&r.body["organisation_id"]), krs.to_string());
    }
    // ... but not elsewhere: a foreign organisation or one that does not exist is 404.
    let stj = app.org_of(who::STJ_ADMIN).await;
    for org in [stj, app.org_of(who::OPERATOR_ADMIN).await, Uuid::new_v4()] {
        let r = app
            .post("/api/v1/users", Some(&krs_admin), &json!({"email": "fremmed@example.no", "name": "Fremmed", "role": "admin", "organisation_id": org}))
            .await;
        r.assert_problem(404);
    }
    // The operator gets 404 for an organisation that does not exist, and for a staff account
    // of another organisation (fitting role or not); it creates administrators anywhere.
    let r = app
        .post("/api/v1/users", Some(&op), &json!({"email": "fremmed@example.no", "name": "Fremmed", "role": "admin", "organisation_id": Uuid::new_v4()}))
        .await;
    r.assert_problem(404);
    for role in ["centre_staff", "career_counsellor"] {
        let r = app
            .post("/api/v1/users", Some(&op), &json!({"email": "fremmed@example.no", "name": "Fremmed", "role": role, "organisation_id": krs}))
            .await;
        assert_eq!(
            r.assert_problem(404),
            "urn:handover:problem:not-found",
            "{role}"
        );
    }
    assert_eq!(users_with_email(&app, "fremmed@example.no").await, 0);
    assert_eq!(app.audit_count("user.create", "success").await, before + 3);
    let r = app
        .post("/api/v1/users", Some(&op), &json!({"email": "operatorens.admin@example.no", "name": "Oda Admin", "role": "admin", "organisation_id": krs}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        (str_of(&r.body["organisation_id"]), r.body["role"].as_str()),
        (krs.to_string(), Some("admin"))
    );
    let op_actor: Option<Uuid> = sqlx::query_scalar(
        "SELECT actor_org_id FROM audit_log WHERE action = 'user.create' AND target_id::text = $1",
    )
    .bind(str_of(&r.body["id"]))
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(op_actor, Some(app.org_of(who::OPERATOR_ADMIN).await));
    app.wait_setup_token("operatorens.admin@example.no", 1)
        .await;
    assert_eq!(app.audit_count("user.create", "success").await, before + 4);
    assert_eq!(
        app.audit_count("user.password_setup_email", "success")
            .await,
        mails_before + 4
    );
}

#[tokio::test]
async fn creating_a_user_validates_fields_roles_and_conflicts() {
    let app = spawn().await;
    let op = app.token(who::OPERATOR_ADMIN).await;
    let org = |i: usize| {
        let a = ORG_OF_ACCOUNT.iter().position(|o| *o == i).unwrap();
        app.org_of(who::ALL[a])
    };
    let (oper, krs, agd, kkrs) = (
        org(OPER).await,
        org(KRS).await,
        org(AGD).await,
        org(KKRS).await,
    );
    let users_before = count(&app, "SELECT count(*) FROM users").await;
    let audit_before = app.audit_count("user.create", "success").await;
    let body = |email: &str, role: &str, org: Uuid| json!({"email": email, "name": "Test Testesen", "role": role, "organisation_id": org});
    let krs_admin = app.token(who::KRS_ADMIN).await;
    let agd_admin = app.token(who::AGDER_ADMIN).await;
    let kkrs_admin = app.token(who::KOMMUNE_KRS_ADMIN).await;

    // Duplicate e-mail, also in another case and with spaces: the same answer whoever holds
    // the address, audited as an identifier conflict.
    for email in [
        who::KRS_STAFF.to_owned(),
        who::KRS_STAFF.to_uppercase(),
        format!(" {} ", who::STJ_STAFF),
    ] {
        let r = app
            .post(
                "/api/v1/users",
                Some(&krs_admin),
                &body(&email, "centre_staff", krs),
            )
            .await;
        assert_eq!(
            r.assert_problem(409),
            "urn:handover:problem:conflict",
            "{email}"
        );
        assert_eq!(r.body["detail"], EMAIL_TAKEN, "{email}: {}", r.text);
    }
    // A local admin gets the same 409 for an address in use elsewhere.
    let r = app
        .post(
            "/api/v1/users",
            Some(&krs_admin),
            &body(who::AGDER_COUNSELLOR, "centre_staff", krs),
        )
        .await;
    r.assert_problem(409);
    assert_eq!(r.body["detail"], EMAIL_TAKEN, "{}", r.text);
    // So does the operator creating an administrator with a taken address.
    let r = app
        .post(
            "/api/v1/users",
            Some(&op),
            &body(who::KRS_STAFF, "admin", krs),
        )
        .await;
    r.assert_problem(409);
    assert_eq!(r.body["detail"], EMAIL_TAKEN, "{}", r.text);
    assert_eq!(
        app.audit_count("user.create", "identifier_conflict").await,
        5
    );

    // Roles that do not fit the organisation's kind, tried by the organisation's own
    // administrator. (The operator's administrator gets 404 for any staff role in another
    // organisation, fitting or not: it never creates staff accounts there.)
    for (o, role, t) in [
        (oper, "centre_staff", &op),
        (oper, "career_counsellor", &op),
        (oper, "municipality_staff", &op),
        (krs, "career_counsellor", &krs_admin),
        (krs, "municipality_staff", &krs_admin),
        (agd, "centre_staff", &agd_admin),
        (agd, "municipality_staff", &agd_admin),
        (kkrs, "centre_staff", &kkrs_admin),
        (kkrs, "career_counsellor", &kkrs_admin),
    ] {
        let r = app
            .post(
                "/api/v1/users",
                Some(t),
                &body("passer.ikke@example.no", role, o),
            )
            .await;
        assert_invalid(&r, &["role"], &format!("{role} in {o}"));
        assert_eq!(field_codes(&r)[0].1, "role_does_not_fit");
        if o != oper {
            let r = app
                .post(
                    "/api/v1/users",
                    Some(&op),
                    &body("passer.ikke@example.no", role, o),
                )
                .await;
            assert_eq!(
                r.assert_problem(404),
                "urn:handover:problem:not-found",
                "operator, {role} in {o}"
            );
        }
    }
    let r = app
        .post(
            "/api/v1/users",
            Some(&krs_admin),
            &body("passer.ikke@example.no", "municipality_staff", krs),
        )
        .await;
    assert_invalid(&r, &["role"], "local admin, misfit role");
    // An unknown role.
    let r = app
        .post(
            "/api/v1/users",
            Some(&op),
            &body("rot@example.no", "root", krs),
        )
        .await;
    assert_invalid(&r, &["role"], "role root");

    // Field validation.
    for (email, name, fields) in [
        ("ikke-en-adresse", "Navn", &["email"][..]),
        ("a@localhost", "Navn", &["email"][..]),
        ("to ord@example.no", "Navn", &["email"][..]),
        ("ok@example.no", "   ", &["name"][..]),
        ("ok@example.no", "Linje\nskift", &["name"][..]),
        ("", "", &["email", "name"][..]),
        // A person's name has a letter, and no invisible or direction-changing characters.
        ("ok@example.no", "12345", &["name"][..]),
        ("ok@example.no", "--- ...", &["name"][..]),
        ("ok@example.no", "Kari\u{200B}Nordmann", &["name"][..]),
        ("ok@example.no", "\u{202E}namdroN iraK", &["name"][..]),
        ("ikke-en-adresse", "\u{2066}Kari", &["email", "name"][..]),
    ] {
        let r = app
            .post(
                "/api/v1/users",
                Some(&op),
                &json!({"email": email, "name": name, "role": "admin", "organisation_id": krs}),
            )
            .await;
        assert_invalid(&r, fields, &format!("{email:?} {name:?}"));
    }
    let long = "x".repeat(201);
    let r = app.post("/api/v1/users", Some(&op), &json!({"email": "lang@example.no", "name": long, "role": "admin", "organisation_id": krs})).await;
    assert_invalid(&r, &["name"], "long name");
    assert_eq!(field_codes(&r)[0].1, "too_long");
    let r = app.post("/api/v1/users", Some(&op), &json!({"email": "x@example.no", "name": "X", "role": "admin", "organisation_id": "krs"})).await;
    assert_invalid(&r, &["organisation_id"], "organisation id not a uuid");

    // A client cannot set server-owned fields.
    for field in [
        "id",
        "version",
        "created_at",
        "updated_at",
        "password_hash",
        "has_password",
        "active",
    ] {
        let mut b = body("felt@example.no", "admin", krs);
        b[field] = json!(if field == "version" {
            json!(7)
        } else {
            json!("x")
        });
        let r = app.post("/api/v1/users", Some(&op), &b).await;
        assert_unknown_field(&r, field, field);
    }
    // Missing fields.
    let r = app
        .post(
            "/api/v1/users",
            Some(&op),
            &json!({"email": "mangler@example.no", "name": "M", "role": "admin"}),
        )
        .await;
    r.assert_problem(422);
    assert_eq!(r.body["errors"][0]["code"], "missing_field", "{}", r.text);

    // Bodies that are not JSON objects of the right kind.
    let r = app
        .raw(
            Method::POST,
            "/api/v1/users",
            Some(&op),
            "application/json",
            b"{\"email\": \"x@y.no\",".to_vec(),
        )
        .await;
    assert_eq!(r.assert_problem(400), "urn:handover:problem:malformed-json");
    let r = app
        .raw(
            Method::POST,
            "/api/v1/users",
            Some(&op),
            "application/json",
            Vec::new(),
        )
        .await;
    r.assert_problem(400);
    let r = app
        .raw(
            Method::POST,
            "/api/v1/users",
            Some(&op),
            "text/plain",
            b"{}".to_vec(),
        )
        .await;
    assert_eq!(
        r.assert_problem(415),
        "urn:handover:problem:unsupported-media-type"
    );
    let r = app
        .raw(
            Method::POST,
            "/api/v1/users",
            Some(&op),
            "application/json",
            b"[]".to_vec(),
        )
        .await;
    r.assert_problem(422);

    // A deactivated organisation takes no new users.
    let r = app
        .post(
            "/api/v1/organisations",
            Some(&op),
            &json!({"kind": "reception_centre", "name": "Nedlagt mottak"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let closed = str_of(&r.body["id"]);
    assert_eq!(
        patch_org(&app, &op, &closed, &json!({"active": false}))
            .await
            .status,
        200
    );
    // (An administrator: the operator's may not create staff there at all.)
    let r = app.post("/api/v1/users", Some(&op), &json!({"email": "sent@example.no", "name": "Sen", "role": "admin", "organisation_id": closed})).await;
    assert_invalid(&r, &["organisation_id"], "deactivated organisation");

    // Probing for taken addresses runs into 429: after the 10th conflict within 15 minutes
    // (the Kristiansand administrator had 4 above), creates and changes by that user are
    // refused, even valid ones; other users are not affected.
    for i in 0..6 {
        let r = app
            .post(
                "/api/v1/users",
                Some(&krs_admin),
                &body(who::ALL[i], "centre_staff", krs),
            )
            .await;
        assert_eq!(
            r.assert_problem(409),
            "urn:handover:problem:conflict",
            "{i}"
        );
    }
    assert_eq!(
        app.audit_count("user.create", "identifier_conflict").await,
        11
    );
    let r = app
        .post(
            "/api/v1/users",
            Some(&krs_admin),
            &body("ledig.adresse@example.no", "centre_staff", krs),
        )
        .await;
    r.assert_problem(429);
    assert!(r.header("retry-after").is_some(), "{:?}", r.headers);
    let staff = app.user_id(who::KRS_STAFF).await.to_string();
    patch_user(&app, &krs_admin, &staff, &json!({"name": "Nytt Navn"}))
        .await
        .assert_problem(429);
    assert_eq!(user_version(&app, &staff).await, 1);
    let r = app
        .post(
            "/api/v1/users",
            Some(&op),
            &body(who::KRS_STAFF, "admin", krs),
        )
        .await;
    assert_eq!(r.assert_problem(409), "urn:handover:problem:conflict");

    // None of this created anybody.
    assert_eq!(
        count(&app, "SELECT count(*) FROM users").await,
        users_before
    );
    assert_eq!(
        app.audit_count("user.create", "success").await,
        audit_before
    );
}

#[tokio::test]
async fn listing_users_filters_and_pages() {
    let app = spawn().await;
    let op = app.token(who::OPERATOR_ADMIN).await;
    let krs = app.org_of(who::KRS_ADMIN).await;
    let stj = app.org_of(who::STJ_ADMIN).await;
    let emails =
        |r: &Res| -> HashSet<String> { items(r).iter().map(|u| str_of(&u["email"])).collect() };

    let all = app.get("/api/v1/users?limit=200", &op).await;
    assert_eq!(all.status, 200, "{}", all.text);
    assert_eq!(all.body["total"], who::EVERY.len());
    assert_eq!(
        (all.body["limit"].as_i64(), all.body["offset"].as_i64()),
        (Some(200), Some(0))
    );
    assert_eq!(
        emails(&all),
        who::EVERY
            .iter()
            .map(|e| (*e).to_owned())
            .collect::<HashSet<_>>()
    );
    let d = app.get("/api/v1/users", &op).await;
    assert_eq!(d.body["limit"], 50, "default limit");

    // Filters.
    let r = app.get("/api/v1/users?role=admin", &op).await;
    assert_eq!(r.body["total"], 8, "one per organisation");
    assert!(items(&r).iter().all(|u| u["role"] == "admin"));
    let r = app.get("/api/v1/users?role=career_counsellor", &op).await;
    assert_eq!(
        emails(&r),
        HashSet::from([
            who::AGDER_COUNSELLOR.to_owned(),
            who::TRD_COUNSELLOR.to_owned()
        ])
    );
    let r = app
        .get(&format!("/api/v1/users?organisation_id={krs}"), &op)
        .await;
    assert_eq!(
        emails(&r),
        HashSet::from([who::KRS_ADMIN.to_owned(), who::KRS_STAFF.to_owned()])
    );
    let r = app
        .get(
            &format!("/api/v1/users?organisation_id={krs}&role=centre_staff"),
            &op,
        )
        .await;
    assert_eq!(emails(&r), HashSet::from([who::KRS_STAFF.to_owned()]));
    assert_eq!(r.body["total"], 1);
    let r = app
        .get(
            &format!("/api/v1/users?organisation_id={}", Uuid::new_v4()),
            &op,
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.body["total"].as_i64()),
        (200, Some(0))
    );
    for q in ["veileder", "VEILEDER", "Veileder"] {
        let r = app.get(&format!("/api/v1/users?q={q}"), &op).await;
        assert_eq!(
            emails(&r),
            HashSet::from([
                who::AGDER_COUNSELLOR.to_owned(),
                who::TRD_COUNSELLOR.to_owned()
            ]),
            "q={q}"
        );
    }
    let r = app.get("/api/v1/users?q=Kommuneansatt", &op).await;
    assert_eq!(r.body["total"], 2, "by name: {}", r.text);
    // LIKE wildcards in q match literally.
    for q in ["%25", "_", "%5C"] {
        let r = app.get(&format!("/api/v1/users?q={q}"), &op).await;
        assert_eq!(
            (r.status.as_u16(), r.body["total"].as_i64()),
            (200, Some(0)),
            "q={q}: {}",
            r.text
        );
    }
    let r = app.get("/api/v1/users?active=false", &op).await;
    assert_eq!(r.body["total"], 0);
    // (Deactivated by the centre's own administrator: the operator's may not change staff
    // accounts of other organisations.)
    let staff = app.user_id(who::KRS_STAFF).await.to_string();
    let krs_admin = app.token(who::KRS_ADMIN).await;
    assert_eq!(
        patch_user(&app, &krs_admin, &staff, &json!({"active": false}))
            .await
            .status,
        200
    );
    let r = app.get("/api/v1/users?active=false", &op).await;
    assert_eq!(emails(&r), HashSet::from([who::KRS_STAFF.to_owned()]));
    let r = app.get("/api/v1/users?active=true", &op).await;
    assert_eq!(r.body["total"], who::EVERY.len() - 1);

    // Pages follow the full list's order, without gaps or repeats.
    let all = app.get("/api/v1/users?limit=200", &op).await;
    let full = item_ids(&all);
    let mut paged = Vec::new();
    for offset in [0, 5, 10] {
        let r = app
            .get(&format!("/api/v1/users?limit=5&offset={offset}"), &op)
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["total"], who::EVERY.len());
        assert_eq!(
            (r.body["limit"].as_i64(), r.body["offset"].as_i64()),
            (Some(5), Some(offset))
        );
        paged.extend(item_ids(&r));
    }
    assert_eq!(paged, full);
    let r = app.get("/api/v1/users?limit=5&offset=15", &op).await;
    assert_eq!(r.status, 200);
    assert!(items(&r).is_empty());

    // Out-of-range and malformed parameters.
    for (q, field) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=-1", "limit"),
        ("offset=-1", "offset"),
        ("offset=1000001", "offset"),
        ("limit=abc", "query"),
        ("role=root", "query"),
        ("active=maybe", "query"),
        ("organisation_id=krs", "query"),
        ("sort=name", "query"),
    ] {
        let r = app.get(&format!("/api/v1/users?{q}"), &op).await;
        assert_invalid(&r, &[field], q);
    }
    let r = app
        .get(&format!("/api/v1/users?q={}", "a".repeat(101)), &op)
        .await;
    assert_invalid(&r, &["q"], "long q");
    assert_eq!(app.get("/api/v1/users?limit=200", &op).await.status, 200);
    assert_eq!(app.get("/api/v1/users?limit=1", &op).await.status, 200);

    // A local admin sees their own organisation only, whatever the filters say.
    let r = app.get("/api/v1/users", &krs_admin).await;
    assert_eq!(
        emails(&r),
        HashSet::from([who::KRS_ADMIN.to_owned(), who::KRS_STAFF.to_owned()])
    );
    assert_eq!(r.body["total"], 2);
    let r = app.get("/api/v1/users?q=veileder", &krs_admin).await;
    assert_eq!(r.body["total"], 0, "{}", r.text);
    let r = app.get("/api/v1/users?role=admin", &krs_admin).await;
    assert_eq!(emails(&r), HashSet::from([who::KRS_ADMIN.to_owned()]));
    let r = app
        .get(&format!("/api/v1/users?organisation_id={krs}"), &krs_admin)
        .await;
    assert_eq!(r.body["total"], 2);
    app.get(&format!("/api/v1/users?organisation_id={stj}"), &krs_admin)
        .await
        .assert_problem(404);
    app.get(
        &format!("/api/v1/users?organisation_id={}", Uuid::new_v4()),
        &krs_admin,
    )
    .await
    .assert_problem(404);
    let r = app.get("/api/v1/users?limit=0", &krs_admin).await;
    assert_invalid(&r, &["limit"], "local admin limit=0");
    // Staff may not list at all.
    let staff_token = app.token(who::STJ_STAFF).await;
    app.get("/api/v1/users", &staff_token)
        .await
        .assert_problem(403);
}

#[tokio::test]
async fn patching_a_user_needs_a_current_if_match_and_valid_fields() {
    let app = spawn().await;
    let admin = app.token(who::KRS_ADMIN).await;
    let id = app.user_id(who::KRS_STAFF).await.to_string();
    let path = format!("/api/v1/users/{id}");
    let before = app.audit_count("user.update", "success").await;

    let g = app.get(&path, &admin).await;
    assert_eq!(g.header("etag"), Some("\"1\""));

    // No If-Match, or "*": 428.
    let r = app
        .patch(&path, &admin, &json!({"name": "Kari Ny"}), None)
        .await;
    assert_eq!(
        r.assert_problem(428),
        "urn:handover:problem:precondition-required"
    );
    let r = app
        .patch(&path, &admin, &json!({"name": "Kari Ny"}), Some("*"))
        .await;
    r.assert_problem(428);
    // If-Match that is not one of our ETags: 412.
    for m in ["garbage", "1", "\"0\"", "\"-1\"", "\"99\""] {
        let r = app
            .patch(&path, &admin, &json!({"name": "Kari Ny"}), Some(m))
            .await;
        assert_eq!(
            r.assert_problem(412),
            "urn:handover:problem:precondition-failed",
            "If-Match {m}"
        );
    }
    assert_eq!(
        user_version(&app, &id).await,
        1,
        "refused PATCHes changed nothing"
    );

    // The current ETag: 200, new ETag, trimmed name.
    let r = app
        .patch(
            &path,
            &admin,
            &json!({"name": "  Kari Ny  "}),
            Some("\"1\""),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("etag"), Some("\"2\""));
    assert_eq!(
        (r.body["name"].as_str(), r.body["version"].as_i64()),
        (Some("Kari Ny"), Some(2))
    );
    let keys: HashSet<&str> = r
        .body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert!(!keys.contains("password_hash") && !keys.contains("password"));
    // The old ETag is now stale.
    let r = app
        .patch(
            &path,
            &admin,
            &json!({"name": "Kari Gammel"}),
            Some("\"1\""),
        )
        .await;
    r.assert_problem(412);
    assert_eq!(app.get(&path, &admin).await.body["name"], "Kari Ny");
    // The e-mail address is normalised.
    let r = app
        .patch(
            &path,
            &admin,
            &json!({"email": " Kari.Ny@Example.NO "}),
            Some("\"2\""),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["email"], "kari.ny@example.no");
    // The old address is told where the account's mail goes now.
    let told = wait_mail_to(&app, who::KRS_STAFF, 1).await;
    assert!(
        told.iter().any(|(_, b)| b.contains("kari.ny@example.no")
            && b.contains("Integreringsmottaket i Kristiansand")),
        "{told:?}"
    );
    assert!(app.mail_to("kari.ny@example.no").is_empty());

    // Validation.
    for (body, fields) in [
        (json!({"name": ""}), &["name"][..]),
        (json!({"name": "x".repeat(201)}), &["name"][..]),
        (json!({"email": "ikke-en-adresse"}), &["email"][..]),
        (json!({"role": "career_counsellor"}), &["role"][..]),
        (json!({"role": "municipality_staff"}), &["role"][..]),
        (json!({"role": "root"}), &["role"][..]),
        (json!({"active": "no"}), &["active"][..]),
        (json!({"name": "", "email": "x"}), &["name", "email"][..]),
    ] {
        let r = patch_user(&app, &admin, &id, &body).await;
        assert_invalid(&r, fields, &body.to_string());
    }
    for field in [
        "id",
        "version",
        "organisation_id",
        "password_hash",
        "created_at",
        "has_password",
    ] {
        let r = patch_user(&app, &admin, &id, &json!({ field: "x" })).await;
        assert_unknown_field(&r, field, field);
    }
    // Duplicate e-mail (in another organisation, even): the same answer whoever holds it,
    // audited as an identifier conflict.
    let r = patch_user(
        &app,
        &admin,
        &id,
        &json!({"email": who::STJ_STAFF.to_uppercase()}),
    )
    .await;
    r.assert_problem(409);
    assert_eq!(r.body["detail"], EMAIL_TAKEN, "{}", r.text);
    assert_eq!(
        app.audit_count("user.update", "identifier_conflict").await,
        1
    );
    // Malformed bodies.
    let r = app
        .raw(
            Method::PATCH,
            &path,
            Some(&admin),
            "application/json",
            b"{\"name\":".to_vec(),
        )
        .await;
    assert_eq!(r.assert_problem(400), "urn:handover:problem:malformed-json");
    let r = app
        .raw(
            Method::PATCH,
            &path,
            Some(&admin),
            "text/plain",
            b"{}".to_vec(),
        )
        .await;
    r.assert_problem(415);
    assert_eq!(
        user_version(&app, &id).await,
        3,
        "refused PATCHes changed nothing"
    );
    assert_eq!(app.audit_count("user.update", "success").await, before + 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_concurrent_patches_with_the_same_if_match_one_wins() {
    let app = spawn().await;
    let op = app.token(who::OPERATOR_ADMIN).await;
    let krs_admin = app.token(who::KRS_ADMIN).await;
    // The centre's administrator: the one account both may rename (the operator reaches other
    // organisations' administrators, not their staff).
    let id = app.user_id(who::KRS_ADMIN).await.to_string();
    let path = format!("/api/v1/users/{id}");
    for round in 0..8 {
        let v = user_version(&app, &id).await;
        let m = etag(v);
        let (body_a, body_b) = (
            json!({"name": format!("Operatør {round}")}),
            json!({"name": format!("Lokal {round}")}),
        );
        let (a, b) = tokio::join!(
            app.patch(&path, &op, &body_a, Some(&m)),
            app.patch(&path, &krs_admin, &body_b, Some(&m)),
        );
        let mut statuses = [st(&a), st(&b)];
        statuses.sort_unstable();
        assert_eq!(
            statuses,
            [200, 412],
            "round {round}: {} / {}",
            a.text,
            b.text
        );
        let (winner, loser) = if st(&a) == 200 { (&a, &b) } else { (&b, &a) };
        loser.assert_problem(412);
        assert_eq!(winner.header("etag"), Some(etag(v + 1).as_str()));
        assert_eq!(user_version(&app, &id).await, v + 1, "round {round}");
        let name: String = sqlx::query_scalar("SELECT name FROM users WHERE id::text = $1")
            .bind(&id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
        assert_eq!(
            name,
            str_of(&winner.body["name"]),
            "round {round}: the loser's change must not land"
        );
    }
    assert_eq!(
        app.audit_count("user.update", "success").await,
        8,
        "one audit row per successful PATCH"
    );
}

#[tokio::test]
async fn deactivating_a_user_ends_their_tokens_and_logins_at_once() {
    let app = spawn().await;
    let admin = app.token(who::KRS_ADMIN).await;
    let staff = app.login(who::KRS_STAFF).await;
    let staff_id = app.user_id(who::KRS_STAFF).await.to_string();
    assert_eq!(app.get("/api/v1/me", &staff.access).await.status, 200);

    let r = patch_user(&app, &admin, &staff_id, &json!({"active": false})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["active"], false);
    assert_eq!(app.audit_count("user.deactivate", "success").await, 1);

    // The access token, still unexpired, is refused at once.
    let r = app.get("/api/v1/me", &staff.access).await;
    assert_eq!(
        r.assert_problem(401),
        "urn:handover:problem:unauthenticated"
    );
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    // So are the refresh token and the password.
    app.post(
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": staff.refresh}),
    )
    .await
    .assert_problem(401);
    app.try_login(who::KRS_STAFF, DEMO_PASSWORD)
        .await
        .assert_problem(401);
    let live: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sessions WHERE user_id::text = $1 AND revoked_at IS NULL",
    )
    .bind(&staff_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(live, 0, "deactivation revokes every session");
    // No setup e-mail for a deactivated account.
    send_setup(&app, &admin, &staff_id)
        .await
        .assert_problem(409);
    assert_eq!(
        app.audit_count("user.password_reset_email", "success")
            .await,
        0
    );

    // Reactivation lets them log in again; the old token stays dead.
    let r = patch_user(&app, &admin, &staff_id, &json!({"active": true})).await;
    assert_eq!(
        (st(&r), r.body["active"].as_bool()),
        (200, Some(true)),
        "{}",
        r.text
    );
    assert_eq!(app.audit_count("user.reactivate", "success").await, 1);
    app.get("/api/v1/me", &staff.access)
        .await
        .assert_problem(401);
    app.post(
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": staff.refresh}),
    )
    .await
    .assert_problem(401);
    let again = app.token(who::KRS_STAFF).await;
    assert_eq!(app.get("/api/v1/me", &again).await.status, 200);

    // The operator deactivates a local admin: that admin's token stops working on admin routes.
    // (A second Steinkjer admin first, so the centre is not left without one.)
    let op = app.token(who::OPERATOR_ADMIN).await;
    let stj = app.org_of(who::STJ_ADMIN).await;
    create_user(&app, &op, stj, "admin", "admin2.steinkjer@example.no").await;
    let stj_admin = app.token(who::STJ_ADMIN).await;
    assert_eq!(app.get("/api/v1/users", &stj_admin).await.status, 200);
    let r = patch_user(
        &app,
        &op,
        &app.user_id(who::STJ_ADMIN).await.to_string(),
        &json!({"active": false}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.get("/api/v1/users", &stj_admin)
        .await
        .assert_problem(401);
    app.try_login(who::STJ_ADMIN, DEMO_PASSWORD)
        .await
        .assert_problem(401);
    assert_eq!(app.audit_count("user.deactivate", "success").await, 2);
}

#[tokio::test]
async fn admins_cannot_deactivate_themselves_or_change_their_own_role() {
    let app = spawn().await;
    for email in [who::KRS_ADMIN, who::OPERATOR_ADMIN, who::KOMMUNE_TRD_ADMIN] {
        let t = app.token(email).await;
        let me = app.user_id(email).await.to_string();
        let r = patch_user(&app, &t, &me, &json!({"active": false})).await;
        assert_eq!(
            r.assert_problem(409),
            "urn:handover:problem:conflict",
            "{email}"
        );
        if email != who::OPERATOR_ADMIN {
            // (In the operator organisation no other role fits, which is a 422 first.)
            let own_staff_role = if email == who::KRS_ADMIN {
                "centre_staff"
            } else {
                "municipality_staff"
            };
            patch_user(&app, &t, &me, &json!({"role": own_staff_role}))
                .await
                .assert_problem(409);
            patch_user(&app, &t, &me, &json!({"name": "Meg", "active": false}))
                .await
                .assert_problem(409);
        }
        assert_eq!(
            user_version(&app, &me).await,
            1,
            "{email}: refused changes left the account alone"
        );
        // Still an admin with a working token; harmless changes to oneself are fine.
        assert_eq!(app.get("/api/v1/users", &t).await.status, 200);
        let r = patch_user(
            &app,
            &t,
            &me,
            &json!({"name": "Ny Meg", "role": "admin", "active": true}),
        )
        .await;
        assert_eq!(r.status, 200, "{email}: {}", r.text);
        assert_eq!(app.get("/api/v1/me", &t).await.status, 200);
    }
}

#[tokio::test]
async fn a_role_change_takes_effect_with_a_new_login() {
    let app = spawn().await;
    let op = app.token(who::OPERATOR_ADMIN).await;
    // Demote a local admin (after adding a second one, so Kristiansand keeps an admin).
    let krs = app.org_of(who::KRS_ADMIN).await;
    create_user(&app, &op, krs, "admin", "admin2.kristiansand@example.no").await;
    let krs_admin = app.token(who::KRS_ADMIN).await;
    let id = app.user_id(who::KRS_ADMIN).await.to_string();
    // The operator may not turn another organisation's administrator into a staff account.
    let r = patch_user(&app, &op, &id, &json!({"role": "centre_staff"})).await;
    assert_eq!(r.assert_problem(404), "urn:handover:problem:not-found");
    assert_eq!(user_version(&app, &id).await, 1, "the refused demotion");
    assert_eq!(app.get("/api/v1/users", &krs_admin).await.status, 200);
    // The second administrator, once they chose a password through the e-mailed link, may.
    let setup = app
        .wait_setup_token("admin2.kristiansand@example.no", 1)
        .await;
    assert_eq!(
        use_setup_token(&app, &setup, GOOD_PASSWORD).await.status,
        204
    );
    let admin2 = app
        .access_token("admin2.kristiansand@example.no", GOOD_PASSWORD)
        .await;
    let r = patch_user(&app, &admin2, &id, &json!({"role": "centre_staff"})).await;
    assert_eq!(
        (st(&r), r.body["role"].as_str()),
        (200, Some("centre_staff")),
        "{}",
        r.text
    );
    app.get("/api/v1/users", &krs_admin)
        .await
        .assert_problem(401);
    let t = app.token(who::KRS_ADMIN).await;
    app.get("/api/v1/users", &t).await.assert_problem(403);
    // A local admin promotes their own staff member.
    let stj_admin = app.token(who::STJ_ADMIN).await;
    let staff = app.token(who::STJ_STAFF).await;
    app.get("/api/v1/users", &staff).await.assert_problem(403);
    let r = patch_user(
        &app,
        &stj_admin,
        &app.user_id(who::STJ_STAFF).await.to_string(),
        &json!({"role": "admin"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.get("/api/v1/me", &staff).await.assert_problem(401);
    let staff = app.token(who::STJ_STAFF).await;
    let r = app.get("/api/v1/users", &staff).await;
    assert_eq!((st(&r), r.body["total"].as_i64()), (200, Some(2)));
}

#[tokio::test]
async fn password_setup_link_flow_end_to_end() {
    let app = spawn().await;
    let op = app.token(who::OPERATOR_ADMIN).await;
    let kkrs_admin = app.token(who::KOMMUNE_KRS_ADMIN).await;
    let kkrs = app.org_of(who::KOMMUNE_KRS_ADMIN).await;
    let user = create_user(
        &app,
        &kkrs_admin,
        kkrs,
        "municipality_staff",
        "ny.bruker@example.no",
    )
    .await;
    let id = str_of(&user["id"]);
    app.try_login("ny.bruker@example.no", GOOD_PASSWORD)
        .await
        .assert_problem(401);
    // Creating the account e-mailed the first link.
    let first = app.wait_setup_token("ny.bruker@example.no", 1).await;

    // Sending it again: the answer says where it went, never what.
    let sent = send_setup(&app, &kkrs_admin, &id).await;
    let expires = assert_setup_sent(&sent, "ny.bruker@example.no", "setup", "resend");
    let ttl = expires - time::OffsetDateTime::now_utc();
    assert!(
        ttl > time::Duration::hours(71) && ttl <= time::Duration::hours(72),
        "{ttl}"
    );
    let token = app.wait_setup_token("ny.bruker@example.no", 2).await;
    assert_ne!(first, token);
    assert!(token.len() >= 32, "{token}");
    assert!(!sent.text.contains(&token));
    // The link in the e-mail points at the web application's setup page. The token is in the
    // query, because the page is a plain form that works without JavaScript; the page moves it
    // into a cookie and redirects at once (tested in web_http).
    let mail = app.mail_to("ny.bruker@example.no");
    let url = mail
        .iter()
        .flat_map(|(_, body)| body.split_whitespace())
        .find(|w| w.contains(&format!("token={token}")))
        .unwrap_or_else(|| panic!("no link with the token: {mail:?}"))
        .to_owned();
    assert!(url.contains("/password-setup?token="), "{url}");
    assert!(!url.contains("/api/"), "{url}");
    // No other address got it.
    for m in app.smtp.messages() {
        if handover_tests::decoded(&m).1.contains(&token) {
            assert_eq!(m.to, ["ny.bruker@example.no"], "{}", m.data);
        }
    }
    assert_eq!(
        app.audit_count("user.password_setup_email", "success")
            .await,
        2,
        "one on create, one on the resend"
    );
    assert_eq!(
        app.audit_count("user.password_setup_link", "success").await,
        0
    );
    // Only a hash of the token is stored.
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM password_setup_tokens WHERE encode(token_hash, 'escape') LIKE '%' || $1 || '%'")
        .bind(&token)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, 0);

    // Weak passwords are refused without spending the link.
    for (pw, code) in [
        ("passwordpassword", "common_password"),
        ("kort", "too_short"),
        ("ny.bruker er meg selv", "contains_email"),
        // Long enough and not on the list, but easy to guess.
        ("Passord2026!!", "too_guessable"),
        ("qwertyuiop12", "too_guessable"),
        ("kristiansand2026", "too_guessable"),
    ] {
        let r = use_setup_token(&app, &token, pw).await;
        assert_invalid(&r, &["new_password"], pw);
        assert_eq!(field_codes(&r)[0].1, code, "{pw}");
    }
    // Unknown fields.
    let r = app
        .post(
            "/api/v1/auth/password-setup",
            None,
            &json!({"token": token, "new_password": GOOD_PASSWORD, "email": "x@y.no"}),
        )
        .await;
    assert_unknown_field(&r, "email", "password setup with email");

    // Only the newest link works: the one e-mailed on creation is spent by the resend.
    use_setup_token(&app, &first, GOOD_PASSWORD)
        .await
        .assert_problem(400);

    let r = use_setup_token(&app, &token, GOOD_PASSWORD).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(app.audit_count("user.password_setup", "success").await, 1);
    // The audit row names the owner and the owner's organisation.
    let (actor, actor_org, actor_role): (Option<Uuid>, Option<Uuid>, Option<String>) =
        sqlx::query_as(
            "SELECT actor_user_id, actor_org_id, actor_role FROM audit_log WHERE action = 'user.password_setup'",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(actor.map(|u| u.to_string()), Some(id.clone()));
    assert_eq!(actor_org, Some(kkrs));
    assert_eq!(actor_role.as_deref(), Some("municipality_staff"));
    let login = app.try_login("ny.bruker@example.no", GOOD_PASSWORD).await;
    assert_eq!(login.status, 200, "{}", login.text);
    let user_token = str_of(&login.body["access_token"]);
    let me = app.get("/api/v1/me", &user_token).await;
    assert_eq!(str_of(&me.body["user"]["id"]), id);
    let g = app.get(&format!("/api/v1/users/{id}"), &op).await;
    assert_eq!(g.body["has_password"], true);
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE id::text = $1")
        .bind(&id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(hash.starts_with("$argon2"), "stored as an Argon2 hash");

    // The link works once.
    let r = use_setup_token(&app, &token, "et helt annet passord 99").await;
    assert_eq!(r.assert_problem(400), "urn:handover:problem:bad-request");
    app.try_login("ny.bruker@example.no", "et helt annet passord 99")
        .await
        .assert_problem(401);
    assert_eq!(
        app.try_login("ny.bruker@example.no", GOOD_PASSWORD)
            .await
            .status,
        200
    );
    // Made-up tokens.
    for t in ["", "ikke-et-token", "x".repeat(129).as_str()] {
        use_setup_token(&app, t, GOOD_PASSWORD)
            .await
            .assert_problem(400);
    }
}

#[tokio::test]
async fn password_setup_links_only_the_newest_works_and_never_for_the_deactivated() {
    let app = spawn().await;
    let admin = app.token(who::AGDER_ADMIN).await;
    let agd = app.org_of(who::AGDER_ADMIN).await;
    let user = create_user(
        &app,
        &admin,
        agd,
        "career_counsellor",
        "ola.veileder@example.no",
    )
    .await;
    let id = str_of(&user["id"]);
    let on_create = app.wait_setup_token("ola.veileder@example.no", 1).await;

    // Two more links; only the newest works, the older ones are spent by it.
    let r = send_setup(&app, &admin, &id).await;
    assert_setup_sent(&r, "ola.veileder@example.no", "setup", "first resend");
    let first = app.wait_setup_token("ola.veileder@example.no", 2).await;
    let r = send_setup(&app, &admin, &id).await;
    assert_setup_sent(&r, "ola.veileder@example.no", "setup", "second resend");
    let second = app.wait_setup_token("ola.veileder@example.no", 3).await;
    assert_ne!(first, second);
    assert_ne!(on_create, first);
    for old in [&on_create, &first] {
        use_setup_token(&app, old, GOOD_PASSWORD)
            .await
            .assert_problem(400);
    }
    assert_eq!(
        use_setup_token(&app, &second, GOOD_PASSWORD).await.status,
        204
    );
    use_setup_token(&app, &first, "et helt annet passord 99")
        .await
        .assert_problem(400);
    assert_eq!(
        app.try_login("ola.veileder@example.no", GOOD_PASSWORD)
            .await
            .status,
        200
    );

    // A link sent before the address changed stops working; the old address is told.
    let r = send_setup(&app, &admin, &id).await;
    assert_setup_sent(&r, "ola.veileder@example.no", "reset", "before the change");
    let before_change = app.wait_setup_token("ola.veileder@example.no", 4).await;
    let r = patch_user(
        &app,
        &admin,
        &id,
        &json!({"email": "ola.ny.veileder@example.no"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let told = wait_mail_to(&app, "ola.veileder@example.no", 5).await;
    assert!(
        told.iter()
            .any(|(_, b)| b.contains("ola.ny.veileder@example.no")),
        "{told:?}"
    );
    use_setup_token(&app, &before_change, "et helt annet passord 99")
        .await
        .assert_problem(400);
    assert_eq!(app.mailed_setup_tokens("ola.veileder@example.no").len(), 4);

    // A link issued before deactivation dies with the account.
    let r = send_setup(&app, &admin, &id).await;
    assert_setup_sent(&r, "ola.ny.veileder@example.no", "reset", "new address");
    let third = app.wait_setup_token("ola.ny.veileder@example.no", 1).await;
    assert_eq!(
        patch_user(&app, &admin, &id, &json!({"active": false}))
            .await
            .status,
        200
    );
    use_setup_token(&app, &third, "et helt annet passord 99")
        .await
        .assert_problem(400);
    send_setup(&app, &admin, &id).await.assert_problem(409);

    // Setting a password through a link for an existing account ends its sessions.
    let krs_admin = app.token(who::KRS_ADMIN).await;
    let staff = app.token(who::KRS_STAFF).await;
    let staff_id = app.user_id(who::KRS_STAFF).await.to_string();
    let r = send_setup(&app, &krs_admin, &staff_id).await;
    assert_setup_sent(&r, who::KRS_STAFF, "reset", "KRS staff");
    let token = app.wait_setup_token(who::KRS_STAFF, 1).await;
    assert_eq!(
        use_setup_token(&app, &token, GOOD_PASSWORD).await.status,
        204
    );
    app.get("/api/v1/me", &staff).await.assert_problem(401);
    app.try_login(who::KRS_STAFF, DEMO_PASSWORD)
        .await
        .assert_problem(401);
    assert_eq!(
        app.try_login(who::KRS_STAFF, GOOD_PASSWORD).await.status,
        200
    );
    // A local admin cannot send links for another organisation's users (nor for ids that
    // are not users).
    send_setup(
        &app,
        &krs_admin,
        &app.user_id(who::STJ_STAFF).await.to_string(),
    )
    .await
    .assert_problem(404);
    send_setup(
        &app,
        &krs_admin,
        &app.org_of(who::KRS_ADMIN).await.to_string(),
    )
    .await
    .assert_problem(404);
    // Nor can the operator's administrator for a staff account of another organisation; it
    // may for their administrators.
    let op = app.token(who::OPERATOR_ADMIN).await;
    send_setup(&app, &op, &staff_id).await.assert_problem(404);
    let r = send_setup(&app, &op, &app.user_id(who::STJ_ADMIN).await.to_string()).await;
    assert_setup_sent(&r, who::STJ_ADMIN, "reset", "operator, STJ admin");
    app.wait_setup_token(who::STJ_ADMIN, 1).await;
    assert!(app.mailed_setup_tokens(who::STJ_STAFF).is_empty());
    assert_eq!(
        app.audit_count("user.password_setup_email", "success")
            .await,
        3,
        "on create and two resends"
    );
    assert_eq!(
        app.audit_count("user.password_reset_email", "success")
            .await,
        4,
        "Ola twice, KRS staff, STJ admin"
    );
    assert_eq!(
        app.audit_count("user.password_setup_link", "success").await,
        0
    );
}

// ---------------------------------------------------------------------------------------------
// 3. Organisations
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn operator_admin_creates_each_kind_of_organisation() {
    let app = spawn().await;
    let op = app.token(who::OPERATOR_ADMIN).await;
    let orgs_before = count(&app, "SELECT count(*) FROM organisations").await;

    let create = |body: Value| {
        let app = &app;
        let op = op.clone();
        async move {
            let r = app.post("/api/v1/organisations", Some(&op), &body).await;
            assert_eq!(r.status, 201, "{body}: {}", r.text);
            let id = str_of(&r.body["id"]);
            assert_eq!(
                r.header("location"),
                Some(format!("/api/v1/organisations/{id}").as_str())
            );
            assert_eq!(r.header("etag"), Some("\"1\""));
            assert_eq!(r.body["version"], 1);
            assert_eq!(r.body["active"], true);
            let g = app.get(&format!("/api/v1/organisations/{id}"), &op).await;
            assert_eq!(g.status, 200);
            assert_eq!(g.header("etag"), Some("\"1\""));
            r.body
        }
    };
    let rc = create(json!({"kind": "reception_centre", "name": "  Integreringsmottaket i Bodø ", "county": "Nordland"})).await;
    assert_eq!(rc["kind"], "reception_centre");
    assert_eq!(rc["name"], "Integreringsmottaket i Bodø");
    assert_eq!(rc["county"], "Nordland");
    assert!(
        rc["municipality_number"].is_null()
            && rc["serves_reception_centre_id"].is_null()
            && rc["served_by_career_centre_id"].is_null()
    );
    let rc_id = str_of(&rc["id"]);

    let cc = create(json!({"kind": "career_centre", "name": "Karrieresenteret i Nordland", "serves_reception_centre_id": rc_id})).await;
    assert_eq!(cc["kind"], "career_centre");
    assert_eq!(str_of(&cc["serves_reception_centre_id"]), rc_id);
    let cc_id = str_of(&cc["id"]);
    let g = app
        .get(&format!("/api/v1/organisations/{rc_id}"), &op)
        .await;
    assert_eq!(str_of(&g.body["served_by_career_centre_id"]), cc_id);

    let cc2 =
        create(json!({"kind": "career_centre", "name": "Karrieresenteret uten mottak"})).await;
    assert!(cc2["serves_reception_centre_id"].is_null());

    let m = create(json!({"kind": "municipality", "name": "Testkommune", "municipality_number": "9999", "county": "Testfylke"})).await;
    assert_eq!(
        (m["kind"].as_str(), m["municipality_number"].as_str()),
        (Some("municipality"), Some("9999"))
    );
    let m_id = str_of(&m["id"]);

    assert_eq!(
        count(&app, "SELECT count(*) FROM organisations").await,
        orgs_before + 4
    );
    assert_eq!(app.audit_count("organisation.create", "success").await, 4);
    let targets: Vec<Uuid> = sqlx::query_scalar(
        "SELECT target_id FROM audit_log WHERE action = 'organisation.create' ORDER BY id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let ids: Vec<String> = targets.iter().map(Uuid::to_string).collect();
    assert_eq!(
        ids,
        [
            rc_id.clone(),
            cc_id.clone(),
            str_of(&cc2["id"]),
            m_id.clone()
        ]
    );

    // The new organisations take users of fitting roles: the operator creates each one's first
    // administrator (it may not create their staff), who chooses a password through the
    // e-mailed link and creates the staff.
    for (org, role) in [
        (&rc_id, "centre_staff"),
        (&cc_id, "career_counsellor"),
        (&m_id, "municipality_staff"),
    ] {
        let org: Uuid = org.parse().unwrap();
        let r = app
            .post("/api/v1/users", Some(&op), &json!({"email": format!("{role}@ny.example.no"), "name": "Ny Ansatt", "role": role, "organisation_id": org}))
            .await;
        assert_eq!(
            r.assert_problem(404),
            "urn:handover:problem:not-found",
            "{role}"
        );
        let admin_email = format!("admin.{role}@ny.example.no");
        create_user(&app, &op, org, "admin", &admin_email).await;
        let setup = app.wait_setup_token(&admin_email, 1).await;
        assert_eq!(
            use_setup_token(&app, &setup, GOOD_PASSWORD).await.status,
            204
        );
        let local = app.access_token(&admin_email, GOOD_PASSWORD).await;
        let u = create_user(&app, &local, org, role, &format!("{role}@ny.example.no")).await;
        assert_eq!(u["role"], role);
    }
    // And they are listed.
    let r = app
        .get("/api/v1/organisations?kind=reception_centre", &op)
        .await;
    assert_eq!(r.body["total"], 3);
    let r = app.get("/api/v1/organisations?q=9999", &op).await;
    assert_eq!(item_ids(&r), [m_id]);
}

#[tokio::test]
async fn creating_an_organisation_validates_and_conflicts() {
    let app = spawn().await;
    let op = app.token(who::OPERATOR_ADMIN).await;
    let krs = app.org_of(who::KRS_ADMIN).await;
    let stj = app.org_of(who::STJ_ADMIN).await;
    let agd = app.org_of(who::AGDER_ADMIN).await;
    let kkrs = app.org_of(who::KOMMUNE_KRS_ADMIN).await;
    let oper = app.org_of(who::OPERATOR_ADMIN).await;
    let before = count(&app, "SELECT count(*) FROM organisations").await;

    let cases: Vec<(Value, Vec<&str>)> = vec![
        (
            json!({"kind": "operator", "name": "Ny operatør"}),
            vec!["kind"],
        ),
        (
            json!({"kind": "municipality", "name": "Uten nummer"}),
            vec!["municipality_number"],
        ),
        (
            json!({"kind": "municipality", "name": "Kort", "municipality_number": "123"}),
            vec!["municipality_number"],
        ),
        (
            json!({"kind": "municipality", "name": "Lang", "municipality_number": "12345"}),
            vec!["municipality_number"],
        ),
        (
            json!({"kind": "municipality", "name": "Bokstav", "municipality_number": "12a4"}),
            vec!["municipality_number"],
        ),
        (
            json!({"kind": "municipality", "name": "Tom", "municipality_number": ""}),
            vec!["municipality_number"],
        ),
        (
            json!({"kind": "municipality", "name": "Arabisk", "municipality_number": "١٢٣٤"}),
            vec!["municipality_number"],
        ),
        (
            json!({"kind": "reception_centre", "name": "Med nummer", "municipality_number": "9998"}),
            vec!["municipality_number"],
        ),
        (
            json!({"kind": "career_centre", "name": "Med nummer", "municipality_number": "9998"}),
            vec!["municipality_number"],
        ),
        (
            json!({"kind": "reception_centre", "name": "Betjener", "serves_reception_centre_id": stj}),
            vec!["serves_reception_centre_id"],
        ),
        (
            json!({"kind": "municipality", "name": "Betjener", "municipality_number": "9998", "serves_reception_centre_id": stj}),
            vec!["serves_reception_centre_id"],
        ),
        (
            json!({"kind": "career_centre", "name": "Kommunehjelper", "serves_reception_centre_id": kkrs}),
            vec!["serves_reception_centre_id"],
        ),
        (
            json!({"kind": "career_centre", "name": "Senterhjelper", "serves_reception_centre_id": agd}),
            vec!["serves_reception_centre_id"],
        ),
        (
            json!({"kind": "career_centre", "name": "Operatørhjelper", "serves_reception_centre_id": oper}),
            vec!["serves_reception_centre_id"],
        ),
        (
            json!({"kind": "career_centre", "name": "Spøkelse", "serves_reception_centre_id": Uuid::new_v4()}),
            vec!["serves_reception_centre_id"],
        ),
        (
            json!({"kind": "reception_centre", "name": ""}),
            vec!["name"],
        ),
        (
            json!({"kind": "reception_centre", "name": "x".repeat(201)}),
            vec!["name"],
        ),
        (
            json!({"kind": "reception_centre", "name": "Fylkesløst", "county": " "}),
            vec!["county"],
        ),
        (
            json!({"kind": "municipality", "name": ""}),
            vec!["name", "municipality_number"],
        ),
        (
            json!({"kind": "operator", "name": "", "municipality_number": "1"}),
            vec!["name", "kind", "municipality_number"],
        ),
        (json!({"kind": "bogus", "name": "Rart"}), vec!["kind"]),
        (json!({"kind": "reception_centre", "name": 5}), vec!["name"]),
        (
            json!({"kind": "career_centre", "name": "Ugyldig id", "serves_reception_centre_id": "krs"}),
            vec!["serves_reception_centre_id"],
        ),
    ];
    for (body, fields) in &cases {
        let r = app.post("/api/v1/organisations", Some(&op), body).await;
        assert_invalid(&r, fields, &body.to_string());
    }
    for field in [
        "id",
        "version",
        "active",
        "served_by_career_centre_id",
        "created_at",
    ] {
        let mut b = json!({"kind": "reception_centre", "name": "Felttest"});
        b[field] = json!("x");
        let r = app.post("/api/v1/organisations", Some(&op), &b).await;
        assert_unknown_field(&r, field, field);
    }
    let r = app
        .raw(
            Method::POST,
            "/api/v1/organisations",
            Some(&op),
            "application/json",
            b"{\"kind\":".to_vec(),
        )
        .await;
    assert_eq!(r.assert_problem(400), "urn:handover:problem:malformed-json");
    let r = app
        .raw(
            Method::POST,
            "/api/v1/organisations",
            Some(&op),
            "application/x-www-form-urlencoded",
            b"kind=x".to_vec(),
        )
        .await;
    r.assert_problem(415);

    // Conflicts.
    for (body, why) in [
        (
            json!({"kind": "municipality", "name": "Nye Oslo", "municipality_number": "0301"}),
            "Oslo's number",
        ),
        (
            json!({"kind": "municipality", "name": "Nye Kristiansand", "municipality_number": "4204"}),
            "a demo municipality's number",
        ),
        (
            json!({"kind": "municipality", "name": "oslo", "municipality_number": "9997"}),
            "a municipality's name",
        ),
        (
            json!({"kind": "career_centre", "name": "Karrieresenteret Sør", "serves_reception_centre_id": krs}),
            "KRS is served by Agder",
        ),
        (
            json!({"kind": "career_centre", "name": "Karrieresenteret Nord", "serves_reception_centre_id": stj}),
            "STJ is served by Trøndelag",
        ),
        (
            json!({"kind": "reception_centre", "name": "Integreringsmottaket i Kristiansand"}),
            "same name and kind",
        ),
        (
            json!({"kind": "reception_centre", "name": "INTEGRERINGSMOTTAKET I STEINKJER"}),
            "same name in other case",
        ),
    ] {
        let r = app.post("/api/v1/organisations", Some(&op), &body).await;
        assert_eq!(
            r.assert_problem(409),
            "urn:handover:problem:conflict",
            "{why}"
        );
    }
    assert_eq!(
        count(&app, "SELECT count(*) FROM organisations").await,
        before,
        "nothing was created"
    );
    assert_eq!(app.audit_count("organisation.create", "success").await, 0);
    // The same name is fine for another kind.
    let r = app
        .post(
            "/api/v1/organisations",
            Some(&op),
            &json!({"kind": "career_centre", "name": "Integreringsmottaket i Kristiansand"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);

    // Only the operator's administrators create organisations.
    for email in [
        who::KRS_ADMIN,
        who::KOMMUNE_KRS_ADMIN,
        who::AGDER_ADMIN,
        who::KRS_STAFF,
        who::TRD_COUNSELLOR,
    ] {
        let t = app.token(email).await;
        let r = app
            .post(
                "/api/v1/organisations",
                Some(&t),
                &json!({"kind": "reception_centre", "name": "Lokalt mottak"}),
            )
            .await;
        assert_eq!(
            r.assert_problem(403),
            "urn:handover:problem:forbidden",
            "{email}"
        );
        // Even an invalid body is refused for the role first.
        let r = app
            .post(
                "/api/v1/organisations",
                Some(&t),
                &json!({"kind": "operator", "name": ""}),
            )
            .await;
        r.assert_problem(403);
    }
    assert_eq!(
        count(&app, "SELECT count(*) FROM organisations").await,
        before + 1
    );
}

#[tokio::test]
async fn patching_an_organisation_sets_the_served_reception_centre() {
    let app = spawn().await;
    let op = app.token(who::OPERATOR_ADMIN).await;
    let trdcc = app.org_of(who::TRD_CC_ADMIN).await.to_string();
    let stj = app.org_of(who::STJ_ADMIN).await.to_string();
    let krs = app.org_of(who::KRS_ADMIN).await.to_string();
    let agd = app.org_of(who::AGDER_ADMIN).await.to_string();
    let kkrs = app.org_of(who::KOMMUNE_KRS_ADMIN).await.to_string();
    let oper = app.org_of(who::OPERATOR_ADMIN).await.to_string();
    let path = format!("/api/v1/organisations/{trdcc}");
    let before = app.audit_count("organisation.update", "success").await;

    let g = app.get(&path, &op).await;
    assert_eq!(g.header("etag"), Some("\"1\""));
    assert_eq!(str_of(&g.body["serves_reception_centre_id"]), stj);

    // Preconditions.
    let r = app
        .patch(
            &path,
            &op,
            &json!({"serves_reception_centre_id": null}),
            None,
        )
        .await;
    r.assert_problem(428);
    for m in ["\"2\"", "\"0\"", "nope", "*"] {
        let r = app
            .patch(
                &path,
                &op,
                &json!({"serves_reception_centre_id": null}),
                Some(m),
            )
            .await;
        r.assert_problem(if m == "*" { 428 } else { 412 });
    }
    // Clear it.
    let r = app
        .patch(
            &path,
            &op,
            &json!({"serves_reception_centre_id": null}),
            Some("\"1\""),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body["serves_reception_centre_id"].is_null());
    assert_eq!(r.header("etag"), Some("\"2\""));
    assert!(
        app.get(&format!("/api/v1/organisations/{stj}"), &op)
            .await
            .body["served_by_career_centre_id"]
            .is_null()
    );
    // The old ETag is stale now.
    app.patch(
        &path,
        &op,
        &json!({"serves_reception_centre_id": stj}),
        Some("\"1\""),
    )
    .await
    .assert_problem(412);

    // Point it at a new reception centre.
    let r = app
        .post(
            "/api/v1/organisations",
            Some(&op),
            &json!({"kind": "reception_centre", "name": "Integreringsmottaket i Bodø"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let bodo = str_of(&r.body["id"]);
    let r = app
        .patch(
            &path,
            &op,
            &json!({"serves_reception_centre_id": bodo}),
            Some("\"2\""),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(str_of(&r.body["serves_reception_centre_id"]), bodo);
    assert_eq!(
        str_of(
            &app.get(&format!("/api/v1/organisations/{bodo}"), &op)
                .await
                .body["served_by_career_centre_id"]
        ),
        trdcc
    );

    // A reception centre is served by one career centre only.
    let r = patch_org(
        &app,
        &op,
        &trdcc,
        &json!({"serves_reception_centre_id": krs}),
    )
    .await;
    assert_eq!(r.assert_problem(409), "urn:handover:problem:conflict");
    // Only reception centres can be served.
    for target in [&kkrs, &agd, &oper, &trdcc, &Uuid::new_v4().to_string()] {
        let r = patch_org(
            &app,
            &op,
            &trdcc,
            &json!({"serves_reception_centre_id": target}),
        )
        .await;
        assert_invalid(&r, &["serves_reception_centre_id"], target);
    }
    // Only career centres serve.
    for org in [&krs, &kkrs, &oper] {
        let r = patch_org(&app, &op, org, &json!({"serves_reception_centre_id": stj})).await;
        assert_invalid(&r, &["serves_reception_centre_id"], org);
    }
    // And back to Steinkjer, which is free again.
    let r = patch_org(
        &app,
        &op,
        &trdcc,
        &json!({"serves_reception_centre_id": stj}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        app.get(&format!("/api/v1/organisations/{bodo}"), &op)
            .await
            .body["served_by_career_centre_id"]
            .is_null()
    );

    // Other fields.
    let r = patch_org(
        &app,
        &op,
        &trdcc,
        &json!({"name": " Karrieresenteret Trøndelag Nord ", "county": null}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["name"], "Karrieresenteret Trøndelag Nord");
    assert!(r.body["county"].is_null());
    let r = patch_org(
        &app,
        &op,
        &trdcc,
        &json!({"name": "karrieresenteret i agder"}),
    )
    .await;
    r.assert_problem(409);
    for (body, fields) in [
        (json!({"name": ""}), &["name"][..]),
        (json!({"county": ""}), &["county"][..]),
        (json!({"active": "ja"}), &["active"][..]),
    ] {
        let r = patch_org(&app, &op, &trdcc, &body).await;
        assert_invalid(&r, fields, &body.to_string());
    }
    let r = patch_org(&app, &op, &oper, &json!({"active": false})).await;
    assert_invalid(&r, &["active"], "deactivating the operator");
    for field in [
        "kind",
        "municipality_number",
        "version",
        "id",
        "served_by_career_centre_id",
    ] {
        let r = patch_org(&app, &op, &trdcc, &json!({ field: "x" })).await;
        assert_unknown_field(&r, field, field);
    }
    let r = app
        .raw(
            Method::PATCH,
            &path,
            Some(&op),
            "application/json",
            b"{".to_vec(),
        )
        .await;
    r.assert_problem(400);
    app.patch(
        &format!("/api/v1/organisations/{}", Uuid::new_v4()),
        &op,
        &json!({"name": "x"}),
        Some("\"1\""),
    )
    .await
    .assert_problem(404);

    // Local admins (even of the organisation itself) and staff: 403, with or without If-Match.
    let v = org_version(&app, &trdcc).await;
    for email in [
        who::TRD_CC_ADMIN,
        who::AGDER_ADMIN,
        who::KRS_ADMIN,
        who::KOMMUNE_TRD_ADMIN,
        who::TRD_COUNSELLOR,
    ] {
        let t = app.token(email).await;
        let r = app
            .patch(&path, &t, &json!({"name": "Kuppet"}), Some(&etag(v)))
            .await;
        assert_eq!(
            r.assert_problem(403),
            "urn:handover:problem:forbidden",
            "{email}"
        );
        app.patch(&path, &t, &json!({"name": "Kuppet"}), None)
            .await
            .assert_problem(403);
        // But they can read it.
        assert_eq!(app.get(&path, &t).await.status, 200);
    }
    assert_eq!(org_version(&app, &trdcc).await, v);
    assert_eq!(
        app.audit_count("organisation.update", "success").await,
        before + 4
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deactivating_an_organisation_locks_out_its_users() {
    let app = spawn().await;
    let op = app.token(who::OPERATOR_ADMIN).await;
    let krs = app.org_of(who::KRS_ADMIN).await.to_string();
    let admin = app.token(who::KRS_ADMIN).await;
    let staff = app.token(who::KRS_STAFF).await;

    // Two concurrent PATCHes with one ETag: one wins.
    let m = etag(org_version(&app, &krs).await);
    let path = format!("/api/v1/organisations/{krs}");
    let (body_a, body_b) = (json!({"active": false}), json!({"county": "Vest-Agder"}));
    let (a, b) = tokio::join!(
        app.patch(&path, &op, &body_a, Some(&m)),
        app.patch(&path, &op, &body_b, Some(&m))
    );
    let mut statuses = [st(&a), st(&b)];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 412], "{} / {}", a.text, b.text);
    if st(&a) != 200 {
        // Make sure the deactivation happened.
        assert_eq!(
            patch_org(&app, &op, &krs, &json!({"active": false}))
                .await
                .status,
            200
        );
    }
    let g = app.get(&path, &op).await;
    assert_eq!(g.body["active"], false);

    app.get("/api/v1/users", &admin).await.assert_problem(401);
    app.get("/api/v1/me", &staff).await.assert_problem(401);
    app.try_login(who::KRS_STAFF, DEMO_PASSWORD)
        .await
        .assert_problem(401);
    let r = app.get("/api/v1/organisations?active=false", &op).await;
    assert_eq!(item_ids(&r), std::slice::from_ref(&krs));
    // (An administrator: the operator's may not create staff accounts there at all, and the
    // centre's own administrator is locked out.)
    let r = app
        .post("/api/v1/users", Some(&op), &json!({"email": "sen@example.no", "name": "Sen", "role": "admin", "organisation_id": krs}))
        .await;
    assert_invalid(&r, &["organisation_id"], "user in deactivated organisation");
    assert_eq!(users_with_email(&app, "sen@example.no").await, 0);

    assert_eq!(
        patch_org(&app, &op, &krs, &json!({"active": true}))
            .await
            .status,
        200
    );
    let t = app.token(who::KRS_STAFF).await;
    assert_eq!(app.get("/api/v1/me", &t).await.status, 200);
}

#[tokio::test]
async fn every_role_reads_the_organisation_register() {
    let app = spawn().await;
    let t = app.token(who::KOMMUNE_TRD_STAFF).await;
    let r = app.get("/api/v1/organisations?limit=200", &t).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Municipalities, centres, career centres, the operator and the directorate.
    assert_eq!(r.body["total"], 357 + 2 + 2 + 1 + 1);
    assert_eq!(items(&r).len(), 200);
    let r = app
        .get("/api/v1/organisations?kind=municipality&limit=1", &t)
        .await;
    assert_eq!(r.body["total"], 357);
    let r = app
        .get("/api/v1/organisations?kind=career_centre", &t)
        .await;
    assert_eq!(r.body["total"], 2);
    for org in items(&r) {
        assert!(org["serves_reception_centre_id"].is_string(), "{org}");
    }
    let r = app.get("/api/v1/organisations?q=0301", &t).await;
    assert_eq!(r.body["items"][0]["name"], "Oslo");
    assert_eq!(r.body["total"], 1);
    let r = app.get("/api/v1/organisations?q=kristiansand", &t).await;
    let kinds: HashSet<String> = items(&r).iter().map(|o| str_of(&o["kind"])).collect();
    assert_eq!(
        kinds,
        HashSet::from(["municipality".to_owned(), "reception_centre".to_owned()]),
        "{}",
        r.text
    );
    let r = app.get("/api/v1/organisations?q=%25", &t).await;
    assert_eq!(r.body["total"], 0, "a % in q matches literally");

    let kkrs = app.org_of(who::KOMMUNE_KRS_ADMIN).await;
    let r = app.get(&format!("/api/v1/organisations/{kkrs}"), &t).await;
    assert_eq!(
        (
            r.body["municipality_number"].as_str(),
            r.body["kind"].as_str()
        ),
        (Some("4204"), Some("municipality"))
    );
    assert_eq!(r.header("etag"), Some("\"1\""));
    let krs = app.org_of(who::KRS_ADMIN).await;
    let agd = app.org_of(who::AGDER_ADMIN).await;
    let r = app.get(&format!("/api/v1/organisations/{krs}"), &t).await;
    assert_eq!(
        str_of(&r.body["served_by_career_centre_id"]),
        agd.to_string()
    );

    for (q, field) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("offset=-1", "offset"),
        ("kind=bogus", "query"),
        ("active=kanskje", "query"),
        ("organisation_id=x", "query"),
    ] {
        let r = app.get(&format!("/api/v1/organisations?{q}"), &t).await;
        assert_invalid(&r, &[field], q);
    }
    let r = app
        .get(&format!("/api/v1/organisations?q={}", "k".repeat(101)), &t)
        .await;
    assert_invalid(&r, &["q"], "long q");
    app.get(&format!("/api/v1/organisations/{}", Uuid::new_v4()), &t)
        .await
        .assert_problem(404);
    app.get("/api/v1/organisations/4204", &t)
        .await
        .assert_problem(404);
}

// ---------------------------------------------------------------------------------------------
// 4. Audit events, and no secrets anywhere
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn audit_events_operator_sees_all_local_admins_their_own() {
    let app = spawn().await;
    let op = app.token(who::OPERATOR_ADMIN).await;
    let krs_admin = app.token(who::KRS_ADMIN).await;
    let agd_admin = app.token(who::AGDER_ADMIN).await;
    let (oper, krs, agd) = (
        app.org_of(who::OPERATOR_ADMIN).await,
        app.org_of(who::KRS_ADMIN).await,
        app.org_of(who::AGDER_ADMIN).await,
    );

    // (The operator creates administrators of other organisations, not their staff.)
    let by_op = create_user(&app, &op, agd, "admin", "fra.operator@example.no").await;
    let by_krs = create_user(&app, &krs_admin, krs, "centre_staff", "fra.krs@example.no").await;
    let by_agd = create_user(
        &app,
        &agd_admin,
        agd,
        "career_counsellor",
        "fra.agder@example.no",
    )
    .await;
    let by_agd_id = str_of(&by_agd["id"]);
    assert_eq!(
        patch_user(&app, &agd_admin, &by_agd_id, &json!({"name": "Endret"}))
            .await
            .status,
        200
    );
    assert_eq!(
        patch_user(&app, &agd_admin, &by_agd_id, &json!({"active": false}))
            .await
            .status,
        200
    );
    let r = app
        .post(
            "/api/v1/organisations",
            Some(&op),
            &json!({"kind": "reception_centre", "name": "Revisjonsmottaket"}),
        )
        .await;
    let new_org = str_of(&r.body["id"]);

    // The operator: everything, newest first, logins included.
    let all = app.get("/api/v1/audit-events?limit=200", &op).await;
    assert_eq!(all.status, 200, "{}", all.text);
    let total = count(&app, "SELECT count(*) FROM audit_log").await;
    assert_eq!(all.body["total"], total);
    assert_eq!(items(&all).len() as i64, total);
    let ids: Vec<i64> = items(&all)
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
    let actions: HashSet<String> = items(&all).iter().map(|e| str_of(&e["action"])).collect();
    for a in [
        "auth.login",
        "user.create",
        "user.password_setup_email",
        "user.update",
        "user.deactivate",
        "organisation.create",
    ] {
        assert!(actions.contains(a), "{a} missing: {actions:?}");
    }
    // A successful login names the organisation and role of the account that logged in.
    let logins: Vec<Value> = items(&all)
        .into_iter()
        .filter(|e| e["action"] == "auth.login" && e["outcome"] == "success")
        .collect();
    assert!(logins.len() >= 3, "{logins:?}");
    let mut org_of_user = std::collections::HashMap::new();
    for (email, org) in [
        (who::OPERATOR_ADMIN, oper),
        (who::KRS_ADMIN, krs),
        (who::AGDER_ADMIN, agd),
    ] {
        org_of_user.insert(app.user_id(email).await.to_string(), org.to_string());
    }
    for e in &logins {
        let org = org_of_user
            .get(&str_of(&e["actor_user_id"]))
            .unwrap_or_else(|| panic!("login of an unexpected account: {e}"));
        assert_eq!(&str_of(&e["actor_org_id"]), org, "{e}");
        assert_eq!(e["actor_role"], "admin", "{e}");
    }
    let orgs_seen: HashSet<String> = items(&all)
        .iter()
        .filter_map(|e| e["actor_org_id"].as_str().map(str::to_owned))
        .collect();
    assert!(
        [oper, krs, agd]
            .iter()
            .all(|o| orgs_seen.contains(&o.to_string())),
        "{orgs_seen:?}"
    );
    let e = items(&all)
        .into_iter()
        .find(|e| e["action"] == "organisation.create")
        .unwrap();
    let keys: HashSet<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
    let expected: HashSet<&str> = [
        "id",
        "at",
        "actor_user_id",
        "actor_org_id",
        "actor_role",
        "action",
        "target_type",
        "target_id",
        "target_ids",
        "outcome",
        "request_id",
        "client_addr",
    ]
    .into();
    assert_eq!(keys, expected);
    assert_eq!(
        (
            str_of(&e["target_id"]),
            str_of(&e["actor_role"]),
            str_of(&e["outcome"])
        ),
        (new_org, "admin".to_owned(), "success".to_owned())
    );
    assert_eq!(
        str_of(&e["actor_user_id"]),
        app.user_id(who::OPERATOR_ADMIN).await.to_string()
    );
    let r = app
        .get("/api/v1/audit-events?action=user.create", &op)
        .await;
    assert_eq!(r.body["total"], 3);
    let r = app
        .get(&format!("/api/v1/audit-events?target_id={by_agd_id}"), &op)
        .await;
    let acts: Vec<String> = items(&r).iter().map(|e| str_of(&e["action"])).collect();
    assert_eq!(
        acts,
        [
            "user.deactivate",
            "user.update",
            "user.password_setup_email",
            "user.create"
        ]
    );

    // A local admin: only events by actors of their own organisation.
    for (t, org, own_creations) in [
        (&krs_admin, krs, vec![str_of(&by_krs["id"])]),
        (&agd_admin, agd, vec![by_agd_id.clone()]),
    ] {
        let r = app.get("/api/v1/audit-events?limit=200", t).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let own: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE actor_org_id = $1")
            .bind(org)
            .fetch_one(&app.pool)
            .await
            .unwrap();
        assert_eq!(r.body["total"], own);
        assert!(own >= 1);
        for e in items(&r) {
            assert_eq!(
                str_of(&e["actor_org_id"]),
                org.to_string(),
                "foreign event: {e}"
            );
        }
        // Their own logins are among them.
        assert!(
            items(&r).iter().any(|e| e["action"] == "auth.login"),
            "{}",
            r.text
        );
        let r = app.get("/api/v1/audit-events?action=user.create", t).await;
        let targets: Vec<String> = items(&r).iter().map(|e| str_of(&e["target_id"])).collect();
        assert_eq!(targets, own_creations);
    }
    // The operator's creation of an Agder user is not Agder's event.
    let r = app
        .get(
            &format!("/api/v1/audit-events?target_id={}", str_of(&by_op["id"])),
            &agd_admin,
        )
        .await;
    assert_eq!(r.body["total"], 0, "{}", r.text);
    let r = app
        .get(
            &format!("/api/v1/audit-events?target_id={by_agd_id}"),
            &krs_admin,
        )
        .await;
    assert_eq!(r.body["total"], 0, "{}", r.text);

    // Staff: 403.
    for email in [
        who::KRS_STAFF,
        who::AGDER_COUNSELLOR,
        who::KOMMUNE_KRS_STAFF,
    ] {
        let t = app.token(email).await;
        let r = app.get("/api/v1/audit-events", &t).await;
        assert_eq!(
            r.assert_problem(403),
            "urn:handover:problem:forbidden",
            "{email}"
        );
    }
    // Parameters.
    for (q, field) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("offset=-1", "offset"),
        ("target_id=nope", "query"),
        ("actor_org_id=x", "query"),
    ] {
        let r = app.get(&format!("/api/v1/audit-events?{q}"), &op).await;
        assert_invalid(&r, &[field], q);
    }
    let r = app
        .get(
            &format!("/api/v1/audit-events?action={}", "a".repeat(65)),
            &op,
        )
        .await;
    assert_invalid(&r, &["action"], "long action");
    let fresh = item_ids_i64(&app.get("/api/v1/audit-events?limit=200", &op).await);
    let r = app.get("/api/v1/audit-events?limit=2&offset=1", &op).await;
    assert_eq!(item_ids_i64(&r), fresh[1..3].to_vec());
}

fn item_ids_i64(r: &Res) -> Vec<i64> {
    items(r).iter().map(|e| e["id"].as_i64().unwrap()).collect()
}

/// Walks every read route as the operator after a busy session; the harness fails any answer
/// that contains `password_hash` or an Argon2 hash.
#[tokio::test]
async fn no_answer_contains_a_password_hash() {
    let app = spawn().await;
    // The check is meaningful: the hashes are there to leak.
    let hashed = count(
        &app,
        "SELECT count(*) FROM users WHERE password_hash LIKE '$argon2%'",
    )
    .await;
    assert_eq!(hashed, who::EVERY.len() as i64);
    let op = app.token(who::OPERATOR_ADMIN).await;
    let krs_admin = app.token(who::KRS_ADMIN).await;
    let krs = app.org_of(who::KRS_ADMIN).await;
    // Some activity: a user with a password set through an e-mailed link, an update, failed
    // logins.
    let u = create_user(&app, &krs_admin, krs, "centre_staff", "hemmelig@example.no").await;
    let id = str_of(&u["id"]);
    let sent = send_setup(&app, &krs_admin, &id).await;
    assert_setup_sent(&sent, "hemmelig@example.no", "setup", "resend");
    let token = app.wait_setup_token("hemmelig@example.no", 2).await;
    assert_eq!(
        use_setup_token(&app, &token, GOOD_PASSWORD).await.status,
        204
    );
    assert_eq!(
        patch_user(&app, &krs_admin, &id, &json!({"name": "Hemmelig"}))
            .await
            .status,
        200
    );
    app.try_login("hemmelig@example.no", "feil passord her")
        .await
        .assert_problem(401);
    app.post("/api/v1/users", Some(&op), &json!({"email": "x@example.no", "name": "X", "role": "admin", "organisation_id": krs, "password_hash": "$argon2id$v=19$x"}))
        .await
        .assert_problem(422);
    assert_eq!(
        app.try_login("hemmelig@example.no", GOOD_PASSWORD)
            .await
            .status,
        200
    );

    let mut checked = 0;
    for t in [&op, &krs_admin] {
        for path in [
            "/api/v1/users?limit=200",
            "/api/v1/audit-events?limit=200",
            "/api/v1/organisations?limit=200",
            "/api/v1/me",
            "/api/v1/users?q=hemmelig",
        ] {
            let r = app.get(path, t).await;
            assert_eq!(r.status, 200, "{path}: {}", r.text);
            checked += 1;
        }
        let list = app.get("/api/v1/users?limit=200", t).await;
        for uid in item_ids(&list) {
            let r = app.get(&format!("/api/v1/users/{uid}"), t).await;
            assert_eq!(r.status, 200);
            assert!(r.body.get("password_hash").is_none() && r.body.get("password").is_none());
            checked += 1;
        }
    }
    // Every demo account's own view.
    for email in who::ALL {
        let t = app.token(email).await;
        let r = app.get("/api/v1/me", &t).await;
        assert_eq!(r.status, 200);
        checked += 1;
    }
    assert!(checked > 30, "{checked}");
}
