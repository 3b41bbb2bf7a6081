//! The install's settings.

use crate::Error;
use crate::bindings::spleis::plugin::config as raw;
use std::str::FromStr;

/// The setting `key`, or `None`.
pub fn get(key: &str) -> Result<Option<String>, Error> {
    Ok(raw::get(key)?)
}

/// The setting `key`; a `config` error naming the key if it is missing.
pub fn require(key: &str) -> Result<String, Error> {
    get(key)?.ok_or_else(|| Error::config(format!("the setting `{key}` is not set")))
}

/// The setting `key` parsed as `T`; a `config` error if it does not parse.
pub fn parse<T: FromStr>(key: &str) -> Result<Option<T>, Error>
where
    T::Err: std::fmt::Display,
{
    match get(key)? {
        None => Ok(None),
        Some(text) => text.parse().map(Some).map_err(|e| {
            Error::config(format!("the setting `{key}` = `{text}` is not valid: {e}"))
        }),
    }
}

/// Every setting, sorted by key.
pub fn all() -> Result<Vec<(String, String)>, Error> {
    Ok(raw::get_all()?)
}
