//! How the read commands show the node's JSON without `--json`, whatever the exact shape of its records: a list
//! (an array, or an object holding one) as one line per element with its id first and a compact summary after; a
//! single record as one `key: value` line per field; anything else as compact JSON. Nothing is cut: ids, keys,
//! digests and addresses are what auditors compare, so every value is shown whole, a list of texts (a node's key
//! history) as the texts themselves.

use serde_json::{Map, Value};

/// The elements of a list answer: the answer itself if it is an array; else the array under `key`; else the
/// only array-valued field of an object. `None` for any other shape.
pub fn list_items<'a>(answer: &'a Value, key: &str) -> Option<&'a [Value]> {
    match answer {
        Value::Array(items) => Some(items),
        Value::Object(fields) => {
            if let Some(Value::Array(items)) = fields.get(key) {
                return Some(items);
            }
            let mut arrays = fields.values().filter_map(Value::as_array);
            match (arrays.next(), arrays.next()) {
                (Some(items), None) => Some(items),
                _ => None,
            }
        }
        _ => None,
    }
}

/// A value as it reads in a table: strings without quotes, `-` for null, a list of strings as `[a, b]`, other
/// values as compact JSON.
pub fn plain(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => "-".to_owned(),
        Value::Array(items) if items.iter().all(Value::is_string) => {
            let texts: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
            format!("[{}]", texts.join(", "))
        }
        other => other.to_string(),
    }
}

/// The id of a record: the first of `id_keys` it has, as plain text.
pub fn id_of(item: &Value, id_keys: &[&str]) -> Option<(String, String)> {
    let fields = item.as_object()?;
    id_keys.iter().find_map(|key| fields.get(*key).map(|value| ((*key).to_owned(), plain(value))))
}

/// One line for a list element: its id (the first of `id_keys` present), then `key=value` for every other field,
/// each whole. An element that is not an object is shown as compact JSON.
pub fn list_line(item: &Value, id_keys: &[&str]) -> String {
    let Some(fields) = item.as_object() else {
        return item.to_string();
    };
    let id = id_of(item, id_keys);
    let mut parts = Vec::new();
    if let Some((_, id)) = &id {
        parts.push(id.clone());
    }
    for (key, value) in fields {
        if id.as_ref().is_some_and(|(id_key, _)| id_key == key) {
            continue;
        }
        parts.push(format!("{key}={}", plain(value)));
    }
    parts.join("  ")
}

/// The fields of a list answer beside its array (such as `next_before`), as hints for the next page.
fn page_footer(fields: &Map<String, Value>, key: &str) -> Vec<String> {
    fields
        .iter()
        .filter(|(name, value)| name.as_str() != key && !value.is_array() && !value.is_null())
        .map(|(name, value)| match name.as_str() {
            "next_before" => format!("more: --before {}", plain(value)),
            "next_after" => format!("more: --after {}", plain(value)),
            _ => format!("{name}: {}", plain(value)),
        })
        .collect()
}

/// A list answer as lines: one per element, `(none)` for an empty list, then the answer's other fields (the
/// next page). An answer that is not a list is shown as a record.
pub fn list(answer: &Value, key: &str, id_keys: &[&str]) -> String {
    let Some(items) = list_items(answer, key) else {
        return record(answer);
    };
    let mut lines: Vec<String> = items.iter().map(|item| list_line(item, id_keys)).collect();
    if lines.is_empty() {
        lines.push("(none)".to_owned());
    }
    if let Value::Object(fields) = answer {
        lines.extend(page_footer(fields, key));
    }
    lines.join("\n")
}

/// The id fields tried for the elements of a list nested in a record (a role's grants, a policy's rules).
pub const NESTED_ID_KEYS: &[&str] = &["id", "role", "account", "kind", "action", "member", "node", "name"];

/// A single record as `key: value` lines (nested values as compact JSON, in full), except that a field holding a
/// list of objects gets a line of its own per element; anything but an object as compact JSON.
pub fn record(value: &Value) -> String {
    let Some(fields) = value.as_object() else {
        return value.to_string();
    };
    if fields.is_empty() {
        return "(empty)".to_owned();
    }
    let width = fields.keys().map(|key| key.chars().count()).max().unwrap_or(0).saturating_add(1);
    let mut lines = Vec::new();
    for (key, value) in fields {
        match value.as_array() {
            Some(items) if !items.is_empty() && items.iter().all(Value::is_object) => {
                lines.push(format!("{key}:"));
                lines.extend(items.iter().map(|item| format!("  {}", list_line(item, NESTED_ID_KEYS))));
            }
            _ => lines.push(format!("{:<width$} {}", format!("{key}:"), plain(value))),
        }
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Arrays, objects holding the named array, and objects holding one array are lists; other shapes are not.
    #[test]
    fn list_shapes() {
        let array = json!([{"id": "a"}]);
        assert_eq!(list_items(&array, "members").map(<[Value]>::len), Some(1));
        let named = json!({"members": [{"id": "a"}, {"id": "b"}], "other": [1]});
        assert_eq!(list_items(&named, "members").map(<[Value]>::len), Some(2));
        let single = json!({"items": [{"id": "a"}], "next_before": 3});
        assert_eq!(list_items(&single, "members").map(<[Value]>::len), Some(1));
        assert!(list_items(&json!({"a": [1], "b": [2]}), "members").is_none());
        assert!(list_items(&json!("text"), "members").is_none());
    }

    /// A list line starts with the id and shows every other field whole, however long: keys, digests, a key
    /// history as its keys; the footer turns `next_before` into the option to pass; an empty list says so.
    #[test]
    fn list_lines() {
        let key = format!("ed25519:{}", "ab".repeat(32));
        let old = format!("ed25519:{}", "ef".repeat(32));
        let hash = format!("sha256:{}", "cd".repeat(32));
        let answer = json!({
            "blocks": [{"height": 9, "hash": hash, "key": key, "history": [old, key], "gone": null, "n": {"a": 1}}],
            "next_before": 9,
        });
        let text = list(&answer, "blocks", &["height"]);
        let mut lines = text.lines();
        let first = lines.next().unwrap();
        assert!(first.starts_with("9  "), "{first}");
        assert!(first.contains(&format!("hash={hash}  ")) && first.contains(&format!("  key={key}  ")), "{first}");
        assert!(first.contains(&format!("history=[{old}, {key}]")), "{first}");
        assert!(first.contains("gone=-") && first.contains(r#"n={"a":1}"#) && !first.contains('…'), "{first}");
        assert_eq!(lines.next(), Some("more: --before 9"));
        assert_eq!(list(&json!({"members": []}), "members", &["id"]), "(none)");
        assert_eq!(list_line(&json!(5), &["id"]), "5");
    }

    /// A record shows each field on its own line, nested values in full.
    #[test]
    fn records() {
        let text = record(&json!({"id": "m1", "governors": ["g1", "g2"], "weights": [1, 2]}));
        assert!(text.contains("id:") && text.contains("m1"), "{text}");
        assert!(text.contains("[g1, g2]") && text.contains("[1,2]"), "{text}");
        let roles = record(&json!({"grants": [{"account": "a1", "role": "operator"}]}));
        assert_eq!(roles, "grants:\n  operator  account=a1");
        assert_eq!(record(&json!(3)), "3");
    }
}
