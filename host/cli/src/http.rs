//! Typed requests on top of the [`Client`]: the answer is decoded into the
//! HTTP contract's types (`spleis_server::types` and the domain types they
//! carry), and an answer that does not decode is an error naming the field,
//! never a silent default. The server's JSON is kept as it came, for
//! `--json`.

use super::client::Client;
use anyhow::{Context, anyhow};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A decoded answer and the JSON it was decoded from.
pub(crate) struct Answer<T> {
    /// The server's JSON, printed as is with `--json`.
    json: Value,
    /// What it says.
    pub(crate) value: T,
}

impl<T> Answer<T> {
    /// The server's JSON (pretty) with `--json`, else `text` of the answer.
    pub(crate) fn render(
        &self,
        client: &Client,
        text: impl FnOnce(&T) -> String,
    ) -> anyhow::Result<String> {
        if client.json() {
            Ok(serde_json::to_string_pretty(&self.json)?)
        } else {
            Ok(text(&self.value))
        }
    }

    /// Prints what [`Answer::render`] makes.
    pub(crate) fn print(
        &self,
        client: &Client,
        text: impl FnOnce(&T) -> String,
    ) -> anyhow::Result<()> {
        println!("{}", self.render(client, text)?);
        Ok(())
    }
}

/// `GET path`.
pub(crate) fn get<T: DeserializeOwned>(client: &Client, path: &str) -> anyhow::Result<Answer<T>> {
    request(client, "GET", path, None)
}

/// `method path` with `body` as JSON.
pub(crate) fn send<T: DeserializeOwned>(
    client: &Client,
    method: &str,
    path: &str,
    body: &impl Serialize,
) -> anyhow::Result<Answer<T>> {
    let body = serde_json::to_value(body).context("cannot encode the request")?;
    request(client, method, path, Some(body))
}

/// `method path` without a body.
pub(crate) fn send_empty<T: DeserializeOwned>(
    client: &Client,
    method: &str,
    path: &str,
) -> anyhow::Result<Answer<T>> {
    request(client, method, path, None)
}

fn request<T: DeserializeOwned>(
    client: &Client,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> anyhow::Result<Answer<T>> {
    let text = client.send_text(method, path, body)?;
    let (json, value) = decode(&text).with_context(|| format!("the answer to {method} {path}"))?;
    Ok(Answer { json, value })
}

/// `text` as JSON, then as `T`; the error names the field that does not
/// decode (`summary.charged: invalid type …`).
fn decode<T: DeserializeOwned>(text: &str) -> anyhow::Result<(Value, T)> {
    let json: Value = serde_json::from_str(text).context("is not JSON")?;
    let value = serde_path_to_error::deserialize(&json)
        .map_err(|e| anyhow!("does not decode at `{}`: {}", e.path(), e.inner()))?;
    Ok((json, value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use spleis_store::billing::BillingSettings;

    #[test]
    fn an_answer_that_does_not_decode_names_the_field() {
        let error = decode::<BillingSettings>(
            r#"{"currency": "EUR", "platform_fee_bps": "many", "last_closed": null}"#,
        )
        .map(|_| ())
        .unwrap_err();
        assert!(
            error.to_string().contains("at `platform_fee_bps`"),
            "{error}"
        );
        let error = decode::<BillingSettings>(r#"{"currency": "EUR"}"#)
            .map(|_| ())
            .unwrap_err();
        assert!(error.to_string().contains("platform_fee_bps"), "{error}");
        assert!(decode::<BillingSettings>("<html>").is_err());
    }

    #[test]
    fn a_decoded_answer_keeps_the_servers_json() {
        let text = r#"{"currency": "EUR", "platform_fee_bps": 2000, "last_closed": "2026-10"}"#;
        let (json, settings) = decode::<BillingSettings>(text).unwrap();
        assert_eq!(settings.platform_fee_bps, 2000);
        assert_eq!(json, serde_json::from_str::<Value>(text).unwrap());
    }
}
