//! One try of a delivery: a blocking POST through ureq (run on the
//! blocking pool), with timeouts, no redirects, no pooled connections, and
//! a resolver that refuses non-public addresses at every connect.

use super::address;
use super::signature;
use std::io::Read;
use std::time::{Duration, Instant};

/// How long connecting may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a whole try may take.
pub const TRY_TIMEOUT: Duration = Duration::from_secs(10);
/// How much of an answer is read.
const MAX_ANSWER_BYTES: u64 = 4 << 10;
/// How much of an error or answer the log keeps.
const MAX_ERROR_CHARS: usize = 300;

/// The HTTP client of a node's deliveries.
pub(crate) fn agent(allow_private: bool) -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout_connect(CONNECT_TIMEOUT)
        .timeout(TRY_TIMEOUT)
        // A redirect would lead the request somewhere the URL check never saw.
        .redirects(0)
        // Every try connects anew, so every try resolves and checks again.
        .max_idle_connections(0)
        .user_agent(concat!("spleis-webhooks/", env!("CARGO_PKG_VERSION")))
        .resolver(move |netloc: &str| address::resolve_public(netloc, allow_private))
        .build()
}

/// What to send in one try.
pub(crate) struct Outgoing<'a> {
    /// The webhook's URL.
    pub url: &'a str,
    /// Its signing secret.
    pub secret: &'a str,
    /// The delivery's id.
    pub delivery: &'a str,
    /// The notification's kind.
    pub kind: &'a str,
    /// The JSON body.
    pub body: &'a str,
    /// The signature's time (unix seconds).
    pub timestamp: i64,
}

/// How one try went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sent {
    /// The receiver's status, when it answered.
    pub status_code: Option<u16>,
    /// Why it failed: a connect error, or the start of a non-2xx answer.
    pub error: Option<String>,
    /// How long it took.
    pub duration: Duration,
}

impl Sent {
    /// Whether the receiver took it (a 2xx).
    pub fn delivered(&self) -> bool {
        matches!(self.status_code, Some(200..=299))
    }
}

/// Sends one try; never fails, it reports.
pub(crate) fn send(agent: &ureq::Agent, out: &Outgoing<'_>, allow_private: bool) -> Sent {
    let started = Instant::now();
    let sent = |status_code, error: Option<String>| Sent {
        status_code,
        error: error.map(|e| bounded(&e)),
        duration: started.elapsed(),
    };
    // The rules in force on this node now: a webhook registered on a node
    // that allowed plain HTTP is refused by one that does not.
    if let Err(refused) = address::check_url(out.url, allow_private) {
        return sent(None, Some(refused.to_string()));
    }
    let result = agent
        .post(out.url)
        .set("Content-Type", "application/json")
        .set(
            "Spleis-Signature",
            &signature::header(out.secret, out.timestamp, out.body.as_bytes()),
        )
        .set("Spleis-Event", out.kind)
        .set("Spleis-Delivery", out.delivery)
        .send_bytes(out.body.as_bytes());
    match result {
        Ok(response) => {
            let status = response.status();
            let answer = start_of(response);
            let error = (!(200..=299).contains(&status)).then(|| format!("answered: {answer}"));
            sent(Some(status), error)
        }
        Err(ureq::Error::Status(status, response)) => {
            let answer = start_of(response);
            sent(Some(status), Some(format!("answered: {answer}")))
        }
        Err(ureq::Error::Transport(transport)) => sent(None, Some(transport.to_string())),
    }
}

/// The first few KiB of an answer, as text.
fn start_of(response: ureq::Response) -> String {
    let mut bytes = Vec::new();
    let _ = response
        .into_reader()
        .take(MAX_ANSWER_BYTES)
        .read_to_end(&mut bytes);
    String::from_utf8_lossy(&bytes).trim().to_owned()
}

/// At most [`MAX_ERROR_CHARS`] characters.
fn bounded(text: &str) -> String {
    match text.char_indices().nth(MAX_ERROR_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    /// A receiver that answers each connection with `answer` and hands
    /// back the request's head and body.
    fn receiver(answer: &'static str) -> (String, std::sync::mpsc::Receiver<(String, String)>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut head = String::new();
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    head.push_str(&line);
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let _ = stream.write_all(answer.as_bytes());
                let _ = tx.send((head, String::from_utf8_lossy(&body).into_owned()));
            }
        });
        (url, rx)
    }

    fn outgoing(url: &str) -> Outgoing<'_> {
        Outgoing {
            url,
            secret: "whsec_x",
            delivery: "d1",
            kind: "invoice-issued",
            body: r#"{"id":"n1"}"#,
            timestamp: 1_700_000_000,
        }
    }

    #[test]
    fn a_try_posts_the_signed_body_with_its_headers() {
        let (url, got) =
            receiver("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        let sent = send(&agent(true), &outgoing(&url), true);
        assert!(sent.delivered(), "{sent:?}");
        let (head, body) = got.recv().unwrap();
        let head = head.to_ascii_lowercase();
        assert_eq!(body, r#"{"id":"n1"}"#);
        assert!(head.starts_with("post /hook http/1.1"), "{head}");
        assert!(head.contains("content-type: application/json"));
        assert!(head.contains("spleis-event: invoice-issued"));
        assert!(head.contains("spleis-delivery: d1"));
        let signature = signature::header("whsec_x", 1_700_000_000, body.as_bytes());
        assert!(
            head.contains(&format!("spleis-signature: {signature}")),
            "{head}"
        );
    }

    #[test]
    fn a_refusal_a_redirect_and_a_private_address_are_failed_tries() {
        let (url, _got) = receiver(
            "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 5\r\nConnection: close\r\n\r\noops!",
        );
        let sent = send(&agent(true), &outgoing(&url), true);
        assert_eq!(sent.status_code, Some(500));
        assert_eq!(sent.error.as_deref(), Some("answered: oops!"));

        let (url, _got) = receiver(
            "HTTP/1.1 302 Found\r\nLocation: http://10.0.0.1/\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
        let sent = send(&agent(true), &outgoing(&url), true);
        assert_eq!(sent.status_code, Some(302), "not followed: {sent:?}");
        assert!(!sent.delivered());

        // Without the operator's flag, neither http:// nor loopback.
        let (url, got) = receiver("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        let sent = send(&agent(false), &outgoing(&url), false);
        assert_eq!(sent.status_code, None);
        assert!(sent.error.unwrap().contains("https"));
        let https = url.replace("http://", "https://");
        let sent = send(&agent(false), &outgoing(&https), false);
        assert!(sent.error.unwrap().contains("loopback"));
        // The connect-time check alone (the URL passed, the name resolves
        // to a private address): the resolver refuses.
        let named = https.replace("127.0.0.1", "localhost");
        let sent = send(&agent(false), &outgoing(&named), false);
        let error = sent.error.unwrap();
        assert!(error.contains("only to public addresses"), "{error}");
        assert!(got.try_recv().is_err(), "nothing reached the receiver");
    }

    #[test]
    fn errors_are_bounded() {
        assert_eq!(bounded("short"), "short");
        let long = bounded(&"é".repeat(1000));
        assert_eq!(long.chars().count(), MAX_ERROR_CHARS + 1);
    }
}
