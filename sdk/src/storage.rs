//! Key-value storage scoped to (tenant, plugin), with JSON helpers.

use crate::Error;
use crate::bindings::spleis::plugin::storage as raw;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Reads the raw bytes under `key`.
pub fn get(key: &str) -> Result<Option<Vec<u8>>, Error> {
    Ok(raw::get(key)?)
}

/// Stores raw bytes under `key`.
pub fn set(key: &str, value: &[u8]) -> Result<(), Error> {
    Ok(raw::set(key, value)?)
}

/// Deletes `key`; returns whether it existed.
pub fn delete(key: &str) -> Result<bool, Error> {
    Ok(raw::delete(key)?)
}

/// Reads and decodes the JSON value under `key`.
pub fn get_json<T: DeserializeOwned>(key: &str) -> Result<Option<T>, Error> {
    match raw::get(key)? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            Error::new(
                "corrupt-data",
                format!("the value stored under `{key}` is not valid: {e}"),
            )
        }),
    }
}

/// Stores `value` as JSON under `key`.
pub fn set_json<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<(), Error> {
    let bytes = serde_json::to_vec(value)
        .map_err(|e| Error::new("internal", format!("cannot encode `{key}`: {e}")))?;
    Ok(raw::set(key, &bytes)?)
}

/// The host's cap on one page of [`list_keys`].
const PAGE: u32 = 1000;

/// Every key starting with `prefix`, in ascending order, fetched page by page.
pub fn list_keys(prefix: &str) -> Result<Vec<String>, Error> {
    let mut keys = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = raw::list_keys(prefix, after.as_deref(), PAGE)?;
        let full = page.len() as u32 >= PAGE;
        after = page.last().cloned();
        keys.extend(page);
        if !full || after.is_none() {
            return Ok(keys);
        }
    }
}
