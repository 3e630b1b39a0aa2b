//! Every form's wrong values are answered in words (issue 20, point 1): each message, in
//! Chinese and in English, names fields by their labels, never by a JSON name, a Rust type or
//! serde's text; a value of the wrong type is a problem on its field.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use cancer_aid::domain::Role;

use crate::db_test;
use crate::helpers::TestApp;

/// What a message must not hold: a JSON field name, serde's or Rust's words; in Chinese, any
/// lowercase ASCII word but a code shown with its Chinese label beside it ("inpatient（住院）").
/// What the user typed, quoted back, is theirs and not looked at.
fn leaks(message: &str, zh: bool) -> Vec<String> {
    let mut own = String::new();
    let mut quoted: Option<char> = None;
    for c in message.chars() {
        match (quoted, c) {
            (None, '“') => quoted = Some('”'),
            (None, '\'') => quoted = Some('\''),
            (Some(end), c) if c == end => quoted = None,
            (Some(_), _) => {}
            (None, c) => own.push(c),
        }
    }
    let mut found = Vec::new();
    let mut rest = own.as_str();
    while let Some(start) = rest.find(|c: char| c.is_ascii_alphanumeric() || c == '_') {
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        let word = &tail[..end];
        let labelled = tail[end..].starts_with('（');
        if word.contains('_') && cancer_aid::fields::known(word) {
            found.push(word.to_owned());
        }
        if zh
            && !labelled
            && word.len() >= 3
            && word.chars().all(|c| c.is_ascii_lowercase())
            && !["true", "false"].contains(&word)
        {
            found.push(word.to_owned());
        }
        rest = &tail[end..];
    }
    for serde in [
        "invalid type",
        "expected i",
        "at line",
        "column",
        "Failed to deserialize",
        "missing field",
    ] {
        if message.contains(serde) {
            found.push(serde.to_owned());
        }
    }
    found
}

fn messages(body: &Value) -> Vec<String> {
    let mut out = vec![body["error"]["message"].as_str().unwrap_or("").to_owned()];
    for d in body["error"]["details"].as_array().into_iter().flatten() {
        out.push(d["message"].as_str().unwrap_or("").to_owned());
        let field = d["field"].as_str().unwrap_or("");
        let leaf = field.rsplit('.').next().unwrap_or("");
        assert!(
            cancer_aid::fields::known(leaf) || field == "body",
            "a field without words: {field} in {body}"
        );
    }
    out
}

db_test!(wrong_values_in_every_form_are_answered_in_words_on_their_fields);
async fn wrong_values_in_every_form_are_answered_in_words_on_their_fields(app: TestApp) {
    let cases: &[(Role, Method, &str, Option<Value>)] = &[
        (
            Role::Caseworker,
            Method::POST,
            "/api/v1/cases",
            Some(json!({"year": "abcd", "id_number": "220102197001010571"})),
        ),
        (
            Role::Caseworker,
            Method::POST,
            "/api/v1/cases",
            Some(json!({})),
        ),
        (
            Role::Caseworker,
            Method::POST,
            "/api/v1/cases",
            Some(json!({"id_number": 5})),
        ),
        (
            Role::Caseworker,
            Method::POST,
            "/api/v1/eligibility",
            Some(json!({"id_number": "123", "date": "2026-02-30"})),
        ),
        (
            Role::Caseworker,
            Method::POST,
            "/api/v1/cases/1/visits/preview",
            Some(
                json!({"kind": "inpatient", "discharged_on": "2026-02-30", "total_cost": "-5", "insurance_paid": 0.5}),
            ),
        ),
        (
            Role::Caseworker,
            Method::POST,
            "/api/v1/cases/1/visits",
            Some(json!({"kind": "boat", "visit_date": "x"})),
        ),
        (
            Role::Admin,
            Method::POST,
            "/api/v1/policies",
            Some(
                json!({"group": "x", "rate": 0.555, "deductible": "abc", "effective_from": "2026-13-01"}),
            ),
        ),
        (
            Role::Admin,
            Method::POST,
            "/api/v1/policies",
            Some(json!({"effective_from": 2026})),
        ),
        (
            Role::Admin,
            Method::POST,
            "/api/v1/users",
            Some(json!({"username": 5})),
        ),
        (
            Role::Admin,
            Method::POST,
            "/api/v1/users",
            Some(
                json!({"username": "a", "password": "short", "roles": ["boss"], "region_prefix": "9"}),
            ),
        ),
        (
            Role::Admin,
            Method::POST,
            "/api/v1/hospitals",
            Some(json!({"name": "", "code": "", "region_code": "99"})),
        ),
        (
            Role::Admin,
            Method::POST,
            "/api/v1/hospitals",
            Some(
                json!({"name": "医院", "code": "H1", "region_code": "220102", "designated": "yes"}),
            ),
        ),
        (
            Role::Manager,
            Method::POST,
            "/api/v1/budget-lines",
            Some(json!({"year": "x"})),
        ),
        (
            Role::Manager,
            Method::POST,
            "/api/v1/budget-lines",
            Some(json!({"year": 2026, "region_code": "abc", "group": "zz", "amount": "-1"})),
        ),
        (
            Role::Manager,
            Method::POST,
            "/api/v1/payment-batches",
            Some(json!({"from": "2026-02-30", "to": "x"})),
        ),
        (
            Role::Manager,
            Method::GET,
            "/api/v1/reports/spending?from=2025-13-01&group_by=nope&status=lost",
            None,
        ),
        (
            Role::Manager,
            Method::GET,
            "/api/v1/visits?status=nope&from=bad",
            None,
        ),
        (
            Role::Approver,
            Method::POST,
            "/api/v1/visits/1/void",
            Some(json!({"reason": 5})),
        ),
        (
            Role::Approver,
            Method::POST,
            "/api/v1/cases/1/approve",
            Some(json!({"version": "one"})),
        ),
    ];
    let mut failures = Vec::new();
    for (role, method, path, body) in cases {
        let client = app.as_role(*role).await;
        for lang in ["zh-CN", "en"] {
            let mut call = client
                .call(method.clone(), path)
                .header("accept-language", lang);
            if let Some(b) = body {
                call = call.json(b);
            }
            let res = call.send().await;
            assert!(
                res.status.is_client_error(),
                "{method} {path}: {} {:?}",
                res.status,
                String::from_utf8_lossy(&res.body)
            );
            if res.status == StatusCode::NOT_FOUND {
                continue;
            }
            let json = res.json();
            for m in messages(&json) {
                let found = leaks(&m, lang == "zh-CN");
                if !found.is_empty() {
                    failures.push(format!("{method} {path} [{lang}] {m:?}: {found:?}"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "messages with internal words:\n{}",
        failures.join("\n")
    );
}

db_test!(a_value_of_the_wrong_type_is_a_problem_on_its_field);
async fn a_value_of_the_wrong_type_is_a_problem_on_its_field(app: TestApp) {
    let cw = app.as_role(Role::Caseworker).await;
    let res = cw
        .post(
            "/api/v1/cases",
            &json!({"year": "abcd", "id_number": "220102197001010571"}),
        )
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.json();
    assert_eq!(body["error"]["details"][0]["field"], "year", "{body}");
    assert_eq!(
        body["error"]["details"][0]["message"],
        "救助年度的值不对：应为整数。"
    );
}
