//! Requests, responses and events, with JSON helpers.

use crate::Error;
use crate::bindings::spleis::plugin::types;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// One call of an operation.
#[derive(Debug, Clone)]
pub struct Request {
    inner: types::Request,
}

impl Request {
    /// Builds a request by hand, e.g. in a plugin's unit tests.
    pub fn new(operation: &str, tenant: &str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            inner: types::Request {
                operation: operation.to_owned(),
                body: body.into(),
                tenant: tenant.to_owned(),
            },
        }
    }

    /// The operation's name.
    pub fn operation(&self) -> &str {
        &self.inner.operation
    }

    /// The tenant the call runs for.
    pub fn tenant(&self) -> &str {
        &self.inner.tenant
    }

    /// The raw body.
    pub fn body(&self) -> &[u8] {
        &self.inner.body
    }

    /// Decodes the body as JSON; a malformed body is an `invalid-input` error
    /// that names what was wrong.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.inner.body).map_err(|e| {
            Error::invalid_input(format!(
                "the body of `{}` is not valid: {e}",
                self.inner.operation
            ))
        })
    }
}

impl From<types::Request> for Request {
    fn from(inner: types::Request) -> Self {
        Self { inner }
    }
}

/// A successful answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The body returned to the caller.
    pub body: Vec<u8>,
}

impl Response {
    /// A response whose body is `value` as JSON.
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<Self, Error> {
        let body = serde_json::to_vec(value)
            .map_err(|e| Error::new("internal", format!("cannot encode the response: {e}")))?;
        Ok(Self { body })
    }

    /// A response with a raw body.
    pub fn bytes(body: impl Into<Vec<u8>>) -> Self {
        Self { body: body.into() }
    }

    /// A response with an empty JSON object as body.
    pub fn empty() -> Self {
        Self::bytes(b"{}".to_vec())
    }
}

impl From<Response> for types::Response {
    fn from(response: Response) -> Self {
        types::Response {
            body: response.body,
        }
    }
}

/// An event delivered to the plugin.
#[derive(Debug, Clone)]
pub struct Event {
    inner: types::Event,
}

impl Event {
    /// Builds an event by hand, e.g. in a plugin's unit tests.
    pub fn new(id: &str, topic: &str, tenant: &str, payload: impl Into<Vec<u8>>) -> Self {
        Self {
            inner: types::Event {
                id: id.to_owned(),
                topic: topic.to_owned(),
                payload: payload.into(),
                tenant: tenant.to_owned(),
            },
        }
    }

    /// The event's unique id.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// The event's topic, e.g. `member.joined`.
    pub fn topic(&self) -> &str {
        &self.inner.topic
    }

    /// The tenant the event belongs to.
    pub fn tenant(&self) -> &str {
        &self.inner.tenant
    }

    /// The raw payload.
    pub fn payload(&self) -> &[u8] {
        &self.inner.payload
    }

    /// Decodes the payload as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.inner.payload).map_err(|e| {
            Error::invalid_input(format!(
                "the payload of event `{}` is not valid: {e}",
                self.inner.topic
            ))
        })
    }
}

impl From<types::Event> for Event {
    fn from(inner: types::Event) -> Self {
        Self { inner }
    }
}
