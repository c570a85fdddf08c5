//! Reference data loaded at start: Norway's municipalities as organisations.

use crate::error::{DbError, DbResult};
use handover_domain::org::is_municipality_number;
use sqlx::PgPool;
use uuid::Uuid;

pub const MUNICIPALITIES_CSV: &str = include_str!("../../../data/municipalities.csv");

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Municipality {
    pub number: String,
    pub name: String,
    pub county: String,
}

/// Parses `number,name,county` lines after a header.
pub fn parse_municipalities(csv: &str) -> Result<Vec<Municipality>, String> {
    let mut out = Vec::new();
    for (i, line) in csv.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let mut parts = line.split(',');
        let (Some(number), Some(name), Some(county), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(format!("line {}: expected number,name,county", i + 1));
        };
        if !is_municipality_number(number) {
            return Err(format!(
                "line {}: bad municipality number {number:?}",
                i + 1
            ));
        }
        out.push(Municipality {
            number: number.to_owned(),
            name: name.trim().to_owned(),
            county: county.trim().to_owned(),
        });
    }
    Ok(out)
}

/// Inserts municipalities that are missing and renames those whose name changed. Idempotent,
/// one statement; organisations created by administrators are left alone.
pub async fn load_municipalities(pool: &PgPool) -> DbResult<u64> {
    let list = parse_municipalities(MUNICIPALITIES_CSV).map_err(DbError::Rejected)?;
    let ids: Vec<Uuid> = list
        .iter()
        .map(|m| {
            Uuid::new_v5(
                &Uuid::NAMESPACE_OID,
                format!("no-kommune-{}", m.number).as_bytes(),
            )
        })
        .collect();
    let numbers: Vec<&str> = list.iter().map(|m| m.number.as_str()).collect();
    let names: Vec<&str> = list.iter().map(|m| m.name.as_str()).collect();
    let counties: Vec<&str> = list.iter().map(|m| m.county.as_str()).collect();
    let r = sqlx::query(
        "INSERT INTO organisations (id, kind, name, municipality_number, county)
         SELECT id, 'municipality', name, number, county
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) AS m(id, number, name, county)
         ON CONFLICT (municipality_number) DO UPDATE
            SET name = EXCLUDED.name, county = EXCLUDED.county, updated_at = now(),
                version = organisations.version + 1
            WHERE organisations.name <> EXCLUDED.name
               OR organisations.county IS DISTINCT FROM EXCLUDED.county",
    )
    .bind(&ids)
    .bind(&numbers)
    .bind(&names)
    .bind(&counties)
    .execute(pool)
    .await?;
    Ok(r.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_list_is_complete_and_well_formed() {
        let list = parse_municipalities(MUNICIPALITIES_CSV).unwrap_or_default();
        assert_eq!(list.len(), 357);
        let mut numbers: Vec<_> = list.iter().map(|m| &m.number).collect();
        numbers.sort();
        numbers.dedup();
        assert_eq!(numbers.len(), 357);
        let mut names: Vec<_> = list.iter().map(|m| m.name.to_lowercase()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 357, "names must be unique");
        for (n, name) in [
            ("0301", "Oslo"),
            ("4204", "Kristiansand"),
            ("5006", "Steinkjer"),
        ] {
            assert!(
                list.iter().any(|m| m.number == n && m.name == name),
                "{n} {name}"
            );
        }
    }

    #[test]
    fn bad_lines_are_refused() {
        assert!(parse_municipalities("h\n12,Oslo,Oslo").is_err());
        assert!(parse_municipalities("h\n0301,Oslo").is_err());
        assert!(parse_municipalities("h\n0301,Oslo,Oslo,x").is_err());
    }
}
