//! Reads the configuration file's keys one by one into typed fields.
//!
//! The file is parsed into tables of plain values, and each known key is taken out by name; a key
//! left over is unknown and refuses the file. This costs a few kilobytes of the library where
//! serde's derived readers for every section cost about 70 kB, and names the key in every error.

use super::ConfigError;
use serde::de::{self, Deserialize, Deserializer, Visitor};
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

/// One value of the file. Arrays and inline tables are not part of the format.
enum Value {
    Flag(bool),
    Integer(i64),
    Float(f64),
    Text(String),
}

/// Reads a [`Value`], and says what the format allows when the file has something else.
struct ValueVisitor;

impl Visitor<'_> for ValueVisitor {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a boolean, a number or a string")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Flag(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Integer(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        i64::try_from(v).map(Value::Integer).map_err(|_| E::custom(format!("{v} is out of range")))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Text(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::Text(v))
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

/// Every `[table]` of a configuration file with the keys not taken yet.
pub struct Keys(BTreeMap<String, BTreeMap<String, Value>>);

fn bad(table: &str, key: &str, why: &str) -> ConfigError {
    ConfigError(format!("{table}.{key}: {why}"))
}

impl Keys {
    /// Parses `text`; an error names the key of its line when the parser's message does not.
    pub fn parse(text: &str) -> Result<Keys, ConfigError> {
        basic_toml::from_str(text).map(Keys).map_err(|e| {
            let message = e.to_string();
            match e.line_col().and_then(|(line, _)| key_on_line(text, line)) {
                Some(key) if !message.contains(&format!("`{key}`")) => ConfigError(format!("{key}: {message}")),
                _ => ConfigError(message),
            }
        })
    }

    fn take(&mut self, table: &str, key: &str) -> Option<Value> {
        self.0.get_mut(table)?.remove(key)
    }

    /// Stores the value of `table.key`, if the file has it, converted by `convert`; `None` from it
    /// refuses the file with `why`.
    fn read<T>(
        &mut self,
        table: &str,
        key: &str,
        into: &mut T,
        why: &str,
        convert: impl FnOnce(Value) -> Option<T>,
    ) -> Result<(), ConfigError> {
        if let Some(value) = self.take(table, key) {
            *into = convert(value).ok_or_else(|| bad(table, key, why))?;
        }
        Ok(())
    }

    pub fn text(&mut self, table: &str, key: &str, into: &mut String) -> Result<(), ConfigError> {
        self.read(table, key, into, "must be a string", |v| match v {
            Value::Text(s) => Some(s),
            _ => None,
        })
    }

    pub fn path(&mut self, table: &str, key: &str, into: &mut Option<PathBuf>) -> Result<(), ConfigError> {
        self.read(table, key, into, "must be a path, as a string", |v| match v {
            Value::Text(s) => Some(Some(PathBuf::from(s))),
            _ => None,
        })
    }

    pub fn flag(&mut self, table: &str, key: &str, into: &mut bool) -> Result<(), ConfigError> {
        self.read(table, key, into, "must be true or false", |v| match v {
            Value::Flag(b) => Some(b),
            _ => None,
        })
    }

    /// A whole number that fits `T`; the key's own limits are checked later.
    pub fn whole<T: TryFrom<i64>>(&mut self, table: &str, key: &str, into: &mut T) -> Result<(), ConfigError> {
        self.read(table, key, into, "must be a whole number within the key's range", |v| match v {
            Value::Integer(n) => T::try_from(n).ok(),
            _ => None,
        })
    }

    pub fn number(&mut self, table: &str, key: &str, into: &mut f32) -> Result<(), ConfigError> {
        self.read(table, key, into, "must be a number", |v| match v {
            Value::Float(x) => Some(x as f32),
            Value::Integer(n) => Some(n as f32),
            _ => None,
        })
    }

    /// Refuses the file when a table or key was not taken: a misspelt key must not fall back to
    /// its default silently.
    pub fn finish(self, tables: &[&str]) -> Result<(), ConfigError> {
        for (table, keys) in &self.0 {
            if !tables.contains(&table.as_str()) {
                return Err(ConfigError(format!("[{table}]: unknown table (known: {})", tables.join(", "))));
            }
            if let Some(key) = keys.keys().next() {
                return Err(bad(table, key, "unknown key"));
            }
        }
        Ok(())
    }
}

/// The dotted key (`table.key`) assigned on 0-based line `line` of `text`: a best effort for the
/// error message (a `=` inside a multi-line string can mislead it; the parser's own text follows).
fn key_on_line(text: &str, line: usize) -> Option<String> {
    let mut table = String::new();
    for (n, raw) in text.lines().enumerate().take(line + 1) {
        let l = raw.trim();
        if let Some(header) = l.strip_prefix('[').map(|h| h.trim_start_matches('[')).and_then(|h| h.split(']').next()) {
            table = header.trim().to_string();
        } else if n == line {
            let (key, _) = l.split_once('=')?;
            let key = key.trim();
            if key.is_empty() || key.starts_with('#') {
                return None;
            }
            return Some(if table.is_empty() { key.to_string() } else { format!("{table}.{key}") });
        }
    }
    None
}
