//! Request lines, typed: every field is type-checked on access, and a field
//! the op does not take is a protocol error naming it.

use serde_json::{Map, Value};

/// A request that cannot be run: `{"kind": "protocol"}`, the field at fault.
#[derive(Debug)]
pub struct ProtocolError {
    pub field: String,
    pub message: String,
}

pub fn proto_err(field: &str, message: String) -> ProtocolError {
    ProtocolError { field: field.to_string(), message }
}

pub struct Request {
    pub op: String,
    pub fields: Map<String, Value>,
}

/// nlohmann::json's type names, so messages read like the reference's.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The id to echo, and the request or why it cannot be run. serde_json
/// refuses invalid UTF-8, text after the value, a number a double cannot
/// hold (1e400), and nesting deeper than 128.
pub fn parse(line: &[u8]) -> (Option<Value>, Result<Request, ProtocolError>) {
    let top: Value = match serde_json::from_slice(line) {
        Ok(v) => v,
        Err(e) => return (None, Err(proto_err("", format!("request is not JSON: {}", e)))),
    };
    let obj = match top {
        Value::Object(m) => m,
        other => {
            let msg = format!("request must be a JSON object, got {}", type_name(&other));
            return (None, Err(proto_err("", msg)));
        }
    };
    let id = obj.get("id").cloned();
    let op = match obj.get("op") {
        None => return (id, Err(proto_err("op", "request has no \"op\"".to_string()))),
        Some(Value::String(s)) => s.clone(),
        Some(v) => {
            let msg = format!("op must be a string, got {}", type_name(v));
            return (id, Err(proto_err("op", msg)));
        }
    };
    (id, Ok(Request { op, fields: obj }))
}

impl Request {
    pub fn allow(&self, fields: &[&str]) -> Result<(), ProtocolError> {
        for key in self.fields.keys() {
            if key != "op" && key != "id" && !fields.contains(&key.as_str()) {
                return Err(proto_err(key, format!("unknown field \"{}\" for op {}", key, self.op)));
            }
        }
        Ok(())
    }

    /// An integer field (None when absent, or null and null_ok). i128 holds
    /// every integer serde_json reads (i64 and u64); whether Rust's API type
    /// holds it is decided where it is used.
    pub fn integer(&self, name: &str, null_ok: bool) -> Result<Option<i128>, ProtocolError> {
        let v = match self.fields.get(name) {
            None => return Ok(None),
            Some(Value::Null) if null_ok => return Ok(None),
            Some(v) => v,
        };
        if let Value::Number(n) = v {
            if let Some(i) = n.as_i64() {
                return Ok(Some(i as i128));
            }
            if let Some(u) = n.as_u64() {
                return Ok(Some(u as i128));
            }
        }
        let or_null = if null_ok { " or null" } else { "" };
        let what = if v.is_number() { "a non-integer number (or one beyond 64 bits)" } else {
            type_name(v)
        };
        Err(proto_err(name, format!("{} must be an integer{}, got {}", name, or_null, what)))
    }

    /// One of the adapter's own knobs (events, timeout_ms): out of range is
    /// a protocol error.
    pub fn own_int(&self, name: &str, def: i64, lo: i64, hi: i64) -> Result<i64, ProtocolError> {
        match self.integer(name, false)? {
            None => Ok(def),
            Some(v) if v >= lo as i128 && v <= hi as i128 => Ok(v as i64),
            Some(v) => Err(proto_err(name, format!("{} {} is outside {}..{}", name, v, lo, hi))),
        }
    }

    pub fn boolean(&self, name: &str, def: bool) -> Result<bool, ProtocolError> {
        match self.fields.get(name) {
            None => Ok(def),
            Some(Value::Bool(b)) => Ok(*b),
            Some(v) => Err(proto_err(name, format!("{} must be a boolean, got {}", name, type_name(v)))),
        }
    }

    /// A string field; None when absent (or null and null_ok).
    pub fn string(&self, name: &str, null_ok: bool) -> Result<Option<String>, ProtocolError> {
        match self.fields.get(name) {
            None => Ok(None),
            Some(Value::Null) if null_ok => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v) => {
                let or_null = if null_ok { " or null" } else { "" };
                Err(proto_err(name, format!("{} must be a string{}, got {}", name, or_null, type_name(v))))
            }
        }
    }
}
