//! Metadata filters: `$eq $ne $in $nin $gt $gte $lt $lte $exists $and $or` on
//! top-level metadata keys, and `{"key": value}` as implicit equality.

use std::cmp::Ordering;

use serde_json::{Map, Value};

/// Checks a filter's shape, so a malformed one is a 400 rather than "no match".
/// Messages name the operator at fault.
pub(crate) fn validate(filter: &Value) -> Result<(), String> {
    let obj = filter.as_object().ok_or("filter must be a JSON object")?;
    for (key, cond) in obj {
        match key.as_str() {
            "$and" | "$or" => {
                let list = cond
                    .as_array()
                    .ok_or_else(|| format!("{key} takes an array of filters, got {cond}"))?;
                for f in list {
                    if !f.is_object() {
                        return Err(format!("{key} takes an array of filters, got {f} in it"));
                    }
                    validate(f)?;
                }
            }
            k if k.starts_with('$') => return Err(format!("unknown top-level operator {k}")),
            _ => {
                let Some(ops) = cond.as_object() else {
                    continue; // implicit equality
                };
                let dollar = ops.keys().filter(|k| k.starts_with('$')).count();
                if dollar == 0 {
                    continue; // equality with an object value
                }
                if dollar != ops.len() {
                    let op = ops
                        .keys()
                        .find(|k| k.starts_with('$'))
                        .map_or("", String::as_str);
                    return Err(format!(
                        "the condition on {key:?} mixes the operator {op} with plain keys; \
                         use only $-operators in an operator object"
                    ));
                }
                for (op, arg) in ops {
                    check_operator(op, arg)?;
                }
            }
        }
    }
    Ok(())
}

/// One `$op: argument` pair of a field's operator object.
fn check_operator(op: &str, arg: &Value) -> Result<(), String> {
    match op {
        "$eq" | "$ne" => Ok(()),
        "$gt" | "$gte" | "$lt" | "$lte" if arg.is_number() => Ok(()),
        "$gt" | "$gte" | "$lt" | "$lte" => Err(format!("{op} takes a number, got {arg}")),
        "$in" | "$nin" if arg.is_array() => Ok(()),
        "$in" | "$nin" => Err(format!("{op} takes an array, got {arg}")),
        "$exists" if arg.is_boolean() => Ok(()),
        "$exists" => Err(format!("$exists takes true or false, got {arg}")),
        other => Err(format!("unknown operator {other}")),
    }
}

/// `{"$eq": …}`-style objects; any other value is implicit equality.
fn operator_object(cond: &Value) -> Option<&Map<String, Value>> {
    cond.as_object()
        .filter(|m| !m.is_empty() && m.keys().all(|k| k.starts_with('$')))
}

/// Whether `metadata` satisfies a validated filter.
pub(crate) fn matches(filter: &Value, metadata: Option<&Value>) -> bool {
    let Some(obj) = filter.as_object() else {
        return false;
    };
    obj.iter().all(|(key, cond)| match key.as_str() {
        "$and" => cond
            .as_array()
            .is_some_and(|l| l.iter().all(|f| matches(f, metadata))),
        "$or" => cond
            .as_array()
            .is_some_and(|l| l.iter().any(|f| matches(f, metadata))),
        _ => {
            let field = metadata.and_then(|m| m.get(key));
            match operator_object(cond) {
                Some(ops) => ops.iter().all(|(op, arg)| test(op, arg, field)),
                None => field.is_some_and(|v| equal(v, cond)),
            }
        }
    })
}

fn test(op: &str, arg: &Value, field: Option<&Value>) -> bool {
    let list = || arg.as_array().map(Vec::as_slice).unwrap_or_default();
    match (op, field) {
        ("$exists", f) => arg.as_bool() == Some(f.is_some()),
        ("$ne", None) | ("$nin", None) => true,
        (_, None) => false,
        ("$eq", Some(v)) => equal(v, arg),
        ("$ne", Some(v)) => !equal(v, arg),
        ("$in", Some(v)) => list().iter().any(|a| equal(v, a)),
        ("$nin", Some(v)) => !list().iter().any(|a| equal(v, a)),
        ("$gt", Some(v)) => order(v, arg) == Some(Ordering::Greater),
        ("$gte", Some(v)) => matches!(order(v, arg), Some(Ordering::Greater | Ordering::Equal)),
        ("$lt", Some(v)) => order(v, arg) == Some(Ordering::Less),
        ("$lte", Some(v)) => matches!(order(v, arg), Some(Ordering::Less | Ordering::Equal)),
        _ => false,
    }
}

/// Numbers compare by value (`1` equals `1.0`), everything else structurally.
fn equal(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn order(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operators() {
        let m = json!({"team": "ops", "year": 2024, "tags": "a"});
        let md = Some(&m);
        let yes = |f: Value| {
            validate(&f).unwrap();
            matches(&f, md)
        };
        assert!(yes(json!({"team": "ops"})));
        assert!(yes(json!({"team": {"$eq": "ops"}})));
        assert!(!yes(json!({"team": {"$ne": "ops"}})));
        assert!(yes(json!({"team": {"$in": ["ops", "dev"]}})));
        assert!(yes(json!({"team": {"$nin": ["dev"]}})));
        assert!(yes(json!({"year": {"$gte": 2024.0, "$lt": 2025}})));
        assert!(!yes(json!({"year": {"$gt": 2024}})));
        assert!(yes(json!({"missing": {"$exists": false}})));
        assert!(yes(json!({"missing": {"$ne": 1}})));
        assert!(!yes(json!({"missing": {"$eq": 1}})));
        assert!(yes(json!({"$or": [{"team": "dev"}, {"year": 2024}]})));
        assert!(!yes(json!({"$and": [{"team": "ops"}, {"year": 1}]})));
        assert!(!matches(&json!({"team": "ops"}), None));
        assert!(validate(&json!({"team": {"$regex": "o"}})).is_err());
        assert!(validate(&json!({"$nor": []})).is_err());
        assert!(validate(&json!([1])).is_err());
        assert!(validate(&json!({"year": {"$gt": "2024"}})).is_err());
        assert!(validate(&json!({"team": {"$eq": 1, "x": 2}})).is_err());
        assert!(validate(&json!({"team": {"$exists": 1}})).is_err());
        assert!(validate(&json!({"$or": [1]})).is_err());
        assert!(validate(&json!({"team": {"a": 1}})).is_ok());
    }
}
