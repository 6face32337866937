//! How the read commands show the node's JSON without `--json`, whatever the exact shape of its records: a list
//! (an array, or an object holding one) as one line per element with its id first and a compact summary after; a
//! single record as one `key: value` line per field; anything else as compact JSON. Text and numbers (ids, keys,
//! digests, addresses: what auditors compare) are always shown whole; only a nested list or object too long for a
//! summary line is cut, with `…`, and the single record or `--json` shows it whole.

use serde_json::{Map, Value};

/// The longest a nested list or object may be inside a one-line summary before it is cut.
pub const MAX_SUMMARY_VALUE_CHARS: usize = 60;

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

/// A value as it reads in a table: strings without quotes, `-` for null, other values as compact JSON.
pub fn plain(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => "-".to_owned(),
        other => other.to_string(),
    }
}

/// `text` cut to at most `max` characters, ending with `…` when cut.
pub fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(max.saturating_sub(1)).collect();
    short.push('…');
    short
}

/// The id of a record: the first of `id_keys` it has, as plain text.
pub fn id_of(item: &Value, id_keys: &[&str]) -> Option<(String, String)> {
    let fields = item.as_object()?;
    id_keys.iter().find_map(|key| fields.get(*key).map(|value| ((*key).to_owned(), plain(value))))
}

/// One line for a list element: its id (the first of `id_keys` present), then `key=value` for every other field,
/// text and numbers whole, long nested values cut. An element that is not an object is shown as compact JSON.
pub fn list_line(item: &Value, id_keys: &[&str]) -> String {
    let Some(fields) = item.as_object() else {
        return cut(&item.to_string(), MAX_SUMMARY_VALUE_CHARS.saturating_mul(4));
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
        let shown = match value {
            Value::Array(_) | Value::Object(_) => cut(&plain(value), MAX_SUMMARY_VALUE_CHARS),
            _ => plain(value),
        };
        parts.push(format!("{key}={shown}"));
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

    /// A list line starts with the id and shows every other field, keys and digests whole however long, long
    /// nested values cut; the footer turns `next_before` into the option to pass; an empty list says so.
    #[test]
    fn list_lines() {
        let key = format!("ed25519:{}", "ab".repeat(32));
        let hash = format!("sha256:{}", "cd".repeat(32));
        let answer = json!({
            "blocks": [{"height": 9, "hash": hash, "key": key, "history": ["x".repeat(100)], "gone": null}],
            "next_before": 9,
        });
        let text = list(&answer, "blocks", &["height"]);
        let mut lines = text.lines();
        let first = lines.next().unwrap();
        assert!(first.starts_with("9  "), "{first}");
        assert!(first.contains(&format!("hash={hash}  ")) && first.ends_with(&format!("key={key}")), "{first}");
        assert!(first.contains("gone=-") && first.contains('…'), "{first}");
        assert!(!first.contains(&"x".repeat(MAX_SUMMARY_VALUE_CHARS)), "{first}");
        assert_eq!(lines.next(), Some("more: --before 9"));
        assert_eq!(list(&json!({"members": []}), "members", &["id"]), "(none)");
        assert_eq!(list_line(&json!(5), &["id"]), "5");
    }

    /// A record shows each field on its own line, nested values in full.
    #[test]
    fn records() {
        let text = record(&json!({"id": "m1", "governors": ["g1", "g2"]}));
        assert!(text.contains("id:") && text.contains("m1"), "{text}");
        assert!(text.contains(r#"["g1","g2"]"#), "{text}");
        let roles = record(&json!({"grants": [{"account": "a1", "role": "operator"}]}));
        assert_eq!(roles, "grants:\n  operator  account=a1");
        assert_eq!(record(&json!(3)), "3");
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(cut("abc", 4), "abc");
    }
}
