//! Every JSON answer the test suite receives from `/api/v1` is checked against the API
//! description (`GET /api/v1/openapi.json`): its status must be described for the route, and
//! its body must match the schema described for that status. So a handler that answers what
//! the description does not say fails the test that called it, and the description cannot
//! drift from the answers. There is no list of tolerated differences: every answer holds.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

/// The description, once per test binary.
fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        serde_json::from_str(cancer_aid::api::openapi::json()).expect("the description is JSON")
    })
}

/// The described path (`/api/v1/cases/{id}`) an address (`/api/v1/cases/12`) falls under.
fn template_of(path: &str) -> Option<&'static str> {
    let asked: Vec<&str> = path.split('/').collect();
    let paths = document()["paths"].as_object()?;
    // Literal segments win over parameters (`/visits/preview` before `/visits/{id}`).
    paths
        .keys()
        .filter(|t| {
            let parts: Vec<&str> = t.split('/').collect();
            parts.len() == asked.len()
                && parts
                    .iter()
                    .zip(&asked)
                    .all(|(p, a)| p == a || (p.starts_with('{') && p.ends_with('}')))
        })
        .max_by_key(|t| t.split('/').filter(|p| !p.starts_with('{')).count())
        .map(String::as_str)
}

type Validators = HashMap<(String, String, u16), Option<jsonschema::Validator>>;

/// The validator of one described answer; `None` when the answer is described without a
/// JSON body.
fn check_against(template: &str, method: &str, status: u16, body: &Value) -> Result<(), String> {
    static CACHE: OnceLock<Mutex<Validators>> = OnceLock::new();
    let op = &document()["paths"][template][method];
    let responses = &op["responses"];
    let described = responses
        .get(status.to_string())
        .or_else(|| responses.get("default"))
        .ok_or_else(|| format!("status {status} is not described"))?;
    let described = resolve(described);
    let key = (template.to_owned(), method.to_owned(), status);
    let mut cache = CACHE
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let validator = cache.entry(key).or_insert_with(|| {
        let schema = described["content"]["application/json"]["schema"].clone();
        if schema.is_null() {
            return None;
        }
        // The schema with the description's components beside it, so its references resolve.
        let mut root = json!({"components": document()["components"].clone()});
        root["allOf"] = json!([schema]);
        Some(jsonschema::draft202012::new(&root).expect("a described schema compiles"))
    });
    match validator {
        None => Err(format!(
            "status {status} is described without a JSON body, but the answer has one"
        )),
        Some(v) => {
            let errors: Vec<String> = v
                .iter_errors(body)
                .take(5)
                .map(|e| format!("{} at {}", e, e.instance_path()))
                .collect();
            if errors.is_empty() {
                Ok(())
            } else {
                Err(errors.join("; "))
            }
        }
    }
}

/// A response described by reference (`#/components/responses/...`), followed.
fn resolve(v: &Value) -> &Value {
    match v["$ref"].as_str() {
        Some(r) => {
            let pointer = r.trim_start_matches('#');
            document().pointer(pointer).unwrap_or(v)
        }
        None => v,
    }
}

/// Checks one answer of the API against the description; panics with what differs.
pub fn check(method: &Method, path: &str, status: StatusCode, content_type: &str, body: &[u8]) {
    if !path.starts_with("/api/v1/") || !content_type.starts_with("application/json") {
        return;
    }
    let Some(template) = template_of(path) else {
        // An address no route serves (a 404 of the fallback) is not in the description.
        return;
    };
    let method = method.as_str().to_ascii_lowercase();
    if document()["paths"][template][&method].is_null() {
        return;
    }
    let Ok(body) = serde_json::from_slice::<Value>(body) else {
        panic!("{method} {template} answered {status} with a body that is not JSON");
    };
    if let Err(why) = check_against(template, &method, status.as_u16(), &body) {
        let msg = format!(
            "{} {template} → {}: {why}",
            method.to_uppercase(),
            status.as_u16()
        );
        panic!(
            "the answer differs from the API description ({msg}); correct the handler or its \
             #[utoipa::path]\nbody: {body}"
        );
    }
}

/// The check fails an answer that the description does not allow: here a login answer without
/// its token.
#[test]
#[should_panic(expected = "the answer differs from the API description")]
fn an_answer_unlike_its_description_fails() {
    check(
        &Method::POST,
        "/api/v1/auth/login",
        StatusCode::OK,
        "application/json",
        br#"{"stage": "full"}"#,
    );
}

/// An undescribed status fails too.
#[test]
#[should_panic(expected = "is not described")]
fn an_undescribed_status_fails() {
    check(
        &Method::GET,
        "/api/v1/hospitals",
        StatusCode::IM_A_TEAPOT,
        "application/json",
        br#"{"error": {"code": "teapot", "message": "?"}}"#,
    );
}
