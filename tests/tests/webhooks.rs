//! Notifications and webhooks end to end on the real binary, on SQLite and
//! PostgreSQL: a close issues an invoice, the tenant's inbox shows it, and
//! its webhook on a local receiver gets signed deliveries that verify with
//! the secret shown once; a receiver answering 500 is retried, and the
//! delivery log shows each try until it answers 200. Without the
//! operator's `--webhook-allow-private`, private targets are refused when
//! registered; another account neither sees nor removes a webhook.

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use spleis_tests::{Server, backends, spleis};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// One request a receiver got: its headers (names lowercase) and body.
struct Received {
    headers: Vec<(String, String)>,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// A receiver on loopback answering the statuses of `script` in turn,
/// then 200; what it got arrives on the channel.
fn receiver(script: Vec<u16>) -> (String, mpsc::Receiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
    let url = format!(
        "http://{}/spleis-hook",
        listener.local_addr().expect("an address")
    );
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut script = script.into_iter();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let Ok(clone) = stream.try_clone() else {
                return;
            };
            let mut reader = BufReader::new(clone);
            let mut headers = Vec::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((name, value)) = line.split_once(':') {
                    headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
                }
            }
            let length: usize = headers
                .iter()
                .find(|(n, _)| n == "content-length")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0);
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let status = script.next().unwrap_or(200);
            let _ = write!(
                stream,
                "HTTP/1.1 {status} Whatever\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope"
            );
            let received = Received {
                headers,
                body: String::from_utf8_lossy(&body).into_owned(),
            };
            if tx.send(received).is_err() {
                return;
            }
        }
    });
    (url, rx)
}

/// Whether `header` (`t=…,v1=…`) signs `body` with `secret`: what a
/// receiver does, written here without the platform's code.
fn verifies(secret: &str, header: &str, body: &str) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => t = Some(value),
            Some(("v1", value)) => v1 = Some(value),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key");
    mac.update(format!("{t}.{body}").as_bytes());
    let fresh = t.parse::<u64>().is_ok_and(|t| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs();
        now.abs_diff(t) < 300
    });
    fresh && hex::decode(v1).is_ok_and(|sig| mac.verify_slice(&sig).is_ok())
}

/// The open month, `YYYY-MM` (UTC).
fn this_month() -> String {
    let out = std::process::Command::new("date")
        .args(["-u", "+%Y-%m"])
        .output()
        .expect("date runs");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn start(database: Option<&str>, args: &[&str]) -> Server {
    match database {
        Some(url) => Server::start_on(url, args),
        None => Server::start_with(args),
    }
}

/// Polls `GET path` until `done` holds of the answer (30 s at most).
fn wait_until(server: &Server, path: &str, token: &str, done: impl Fn(&Value) -> bool) -> Value {
    let started = Instant::now();
    loop {
        let (status, body) = server.request("GET", path, token, None);
        assert_eq!(status, 200, "{path}: {body}");
        if done(&body) {
            return body;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{path} never got there: {body}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_close_is_delivered_signed_retried_and_logged_and_lands_in_the_inbox() {
    for database in backends() {
        let server = start(
            database.as_deref(),
            &["--webhook-allow-private", "--webhook-retry-scale", "0.001"],
        );
        let op = server.operator.clone();
        let a = server.account("tenant-a", "tenant");
        let b = server.account("tenant-b", "tenant");

        // A's receiver fails twice, then takes it.
        let (url, got) = receiver(vec![500, 500]);
        let (status, created) = server.request(
            "POST",
            "/v1/webhooks",
            &a,
            Some(json!({"url": url, "events": ["invoice-issued", "statement-issued"]})),
        );
        assert_eq!(status, 201, "{created}");
        let secret = created["secret"].as_str().expect("the secret").to_owned();
        assert!(secret.starts_with("whsec_"), "{secret}");
        let id = created["webhook"]["id"].as_str().expect("an id").to_owned();
        let (_, listed) = server.request("GET", "/v1/webhooks", &a, None);
        assert_eq!(listed["webhooks"][0]["id"], json!(id));
        assert!(
            !listed.to_string().contains(&secret),
            "listed without its secret"
        );
        let (status, body) = server.request(
            "POST",
            "/v1/webhooks",
            &a,
            Some(json!({"url": url, "events": ["no-such-kind"]})),
        );
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (422, Some("invalid-body")),
            "{body}"
        );

        // Another account neither sees, removes nor reads it.
        let (_, theirs) = server.request("GET", "/v1/webhooks", &b, None);
        assert_eq!(theirs["webhooks"], json!([]));
        for (method, path) in [
            ("DELETE", format!("/v1/webhooks/{id}")),
            ("GET", format!("/v1/webhooks/{id}/deliveries")),
        ] {
            let (status, body) = server.request(method, &path, &b, None);
            assert_eq!(
                (status, body["error"]["code"].as_str()),
                (404, Some("not-found")),
                "{method} {path}: {body}"
            );
            let (status, _) = server.request(method, &path, &op, None);
            assert_eq!(status, 404, "the operator sees its own webhooks only");
        }

        // A minimum commitment makes A an invoice; the operator closes.
        let (status, _) = server.request(
            "PUT",
            "/v1/tenants/tenant-a/minimum",
            &op,
            Some(json!({"minimum_minor": 500})),
        );
        assert_eq!(status, 200);
        let period = this_month();
        let (status, closed) = server.request(
            "POST",
            "/v1/billing/close",
            &op,
            Some(json!({"period": period, "early": true})),
        );
        assert_eq!(status, 201, "{closed}");
        let (_, invoices) = server.request("GET", "/v1/invoices", &a, None);
        let number = invoices["invoices"][0]["number"]
            .as_str()
            .expect("A's invoice")
            .to_owned();

        // Three tries of the same signed delivery reach the receiver.
        let tries: Vec<Received> = (0..3)
            .map(|n| {
                got.recv_timeout(Duration::from_secs(30))
                    .unwrap_or_else(|e| panic!("try {}: {e}", n + 1))
            })
            .collect();
        for try_ in &tries {
            assert!(
                verifies(&secret, try_.header("spleis-signature"), &try_.body),
                "{} does not verify",
                try_.header("spleis-signature")
            );
            assert!(!verifies(
                "whsec_other",
                try_.header("spleis-signature"),
                &try_.body
            ));
            assert_eq!(try_.header("content-type"), "application/json");
            assert_eq!(try_.header("spleis-event"), "invoice-issued");
            assert_eq!(try_.body, tries[0].body, "the same bytes every try");
            assert_eq!(
                try_.header("spleis-delivery"),
                tries[0].header("spleis-delivery")
            );
        }
        let event: Value = serde_json::from_str(&tries[0].body).expect("JSON");
        assert_eq!(event["type"], "invoice-issued");
        assert_eq!(event["data"]["subject"], json!(number));
        assert_eq!(event["data"]["total_minor"], 500);
        assert!(event["created_at"].as_i64().is_some() && event["id"].as_str().is_some());
        let text = event["data"]["text"].as_str().expect("a text");
        assert!(
            text.contains(&number) && text.contains("5.00 EUR") && !text.contains("tenant-b"),
            "{text}"
        );

        // The log shows each try: 500, 500, then delivered.
        let log_path = format!("/v1/webhooks/{id}/deliveries");
        let log = wait_until(&server, &log_path, &a, |log| {
            log["deliveries"][0]["status"] == "delivered"
        });
        let delivery = &log["deliveries"][0];
        assert_eq!(
            delivery["id"].as_str(),
            Some(tries[0].header("spleis-delivery"))
        );
        assert_eq!(delivery["event_id"], event["id"]);
        let attempts: Vec<(i64, i64, &str)> = delivery["attempts"]
            .as_array()
            .expect("tries")
            .iter()
            .map(|t| {
                (
                    t["attempt"].as_i64().unwrap(),
                    t["status_code"].as_i64().unwrap(),
                    t["outcome"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            attempts,
            [
                (1, 500, "pending"),
                (2, 500, "pending"),
                (3, 200, "delivered")
            ]
        );
        let first = &delivery["attempts"][0];
        assert!(first["next_try_at"].as_i64() > first["tried_at"].as_i64());
        assert_eq!(first["error"], "answered: nope");
        assert!(first["duration_ms"].as_u64().is_some());

        // The inbox: A's invoice, unread; B has none.
        let (status, inbox) = server.request("GET", "/v1/notifications", &a, None);
        assert_eq!(status, 200, "{inbox}");
        assert_eq!(inbox["unread"], 1, "{inbox}");
        let note = &inbox["items"][0];
        assert_eq!(
            (&note["kind"], &note["subject"], &note["read"]),
            (&json!("invoice-issued"), &json!(number), &json!(false))
        );
        assert_eq!(note["id"], event["id"]);
        let (_, theirs) = server.request("GET", "/v1/notifications", &b, None);
        assert_eq!(
            (theirs["items"].clone(), theirs["unread"].clone()),
            (json!([]), json!(0))
        );
        let (status, body) = server.request("GET", "/v1/notifications?limit=abc", &a, None);
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (400, Some("invalid-query")),
            "{body}"
        );
        let (status, body) = server.request("GET", "/v1/notifications?limit=0", &a, None);
        assert_eq!(status, 400, "{body}");

        // Marking: B cannot mark A's; A marks it once.
        let read = json!({"ids": [note["id"]]});
        let (_, marked) = server.request("POST", "/v1/notifications/read", &b, Some(read.clone()));
        assert_eq!(marked["marked"], 0);
        let (status, marked) =
            server.request("POST", "/v1/notifications/read", &a, Some(read.clone()));
        assert_eq!((status, &marked["marked"]), (200, &json!(1)), "{marked}");
        let (_, marked) = server.request("POST", "/v1/notifications/read", &a, Some(json!({})));
        assert_eq!(marked["marked"], 0, "all were read");
        let (_, unread) = server.request("GET", "/v1/notifications?unread=true", &a, None);
        assert_eq!(
            (unread["items"].clone(), unread["unread"].clone()),
            (json!([]), json!(0))
        );
        let (_, all) = server.request("GET", "/v1/notifications?limit=5", &a, None);
        assert_eq!(all["items"][0]["read"], true);

        // The command line reads the same.
        let connection = ["--server", server.url.as_str(), "--token", a.as_str()];
        let cli = |args: &[&str]| {
            let mut all = connection.to_vec();
            all.extend_from_slice(args);
            let (code, out, err) = spleis(&all);
            assert_eq!(code, 0, "spleis {args:?}: {err}");
            out
        };
        let out = cli(&["webhook", "deliveries", &id]);
        assert!(
            out.contains("try 1") && out.contains("HTTP 500") && out.contains("try 3"),
            "{out}"
        );
        assert!(out.contains("delivered"), "{out}");
        assert!(cli(&["webhook", "list"]).contains(&id));
        let out = cli(&["notifications"]);
        assert!(out.contains(&number) && out.contains("0 unread"), "{out}");

        // Removed, it is gone with its log.
        let (status, _) = server.request("DELETE", &format!("/v1/webhooks/{id}"), &a, None);
        assert_eq!(status, 204);
        let (status, _) = server.request("GET", &log_path, &a, None);
        assert_eq!(status, 404);
    }
}

#[test]
fn without_the_operators_flag_private_targets_are_refused_when_registered() {
    for database in backends() {
        let server = start(database.as_deref(), &[]);
        let a = server.account("tenant-a", "tenant");
        for (url, code, names) in [
            (
                "https://127.0.0.1/hook",
                "webhook-address-refused",
                "127.0.0.1",
            ),
            ("http://10.0.0.1/", "invalid-webhook-url", "https"),
            (
                "https://10.0.0.1/hook",
                "webhook-address-refused",
                "10.0.0.1",
            ),
            ("https://[::1]:8443/", "webhook-address-refused", "::1"),
            (
                "https://169.254.169.254/latest/meta-data",
                "webhook-address-refused",
                "link-local",
            ),
            (
                "https://100.64.0.1/",
                "webhook-address-refused",
                "carrier-grade",
            ),
            (
                "https://[::ffff:192.168.0.1]/",
                "webhook-address-refused",
                "private",
            ),
            (
                "https://user:secret@93.184.216.34/",
                "invalid-webhook-url",
                "password",
            ),
            (
                "https://localhost/hook",
                "webhook-address-refused",
                "loopback",
            ),
        ] {
            let (status, body) =
                server.request("POST", "/v1/webhooks", &a, Some(json!({"url": url})));
            assert_eq!(
                (status, body["error"]["code"].as_str()),
                (422, Some(code)),
                "{url}: {body}"
            );
            let message = body["error"]["message"].as_str().unwrap_or("");
            assert!(message.contains(names), "{url}: {message}");
        }
        let (_, listed) = server.request("GET", "/v1/webhooks", &a, None);
        assert_eq!(listed["webhooks"], json!([]), "nothing was registered");

        // A public address is taken (a literal: no DNS needed), ten at most.
        for n in 0..10 {
            let (status, body) = server.request(
                "POST",
                "/v1/webhooks",
                &a,
                Some(json!({"url": format!("https://93.184.216.34/hook/{n}")})),
            );
            assert_eq!(status, 201, "{body}");
        }
        let (status, body) = server.request(
            "POST",
            "/v1/webhooks",
            &a,
            Some(json!({"url": "https://93.184.216.34/hook/10"})),
        );
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (409, Some("too-many-webhooks")),
            "{body}"
        );
    }
}

#[test]
fn a_pending_upgrade_tells_the_tenant_whose_install_waits() {
    let server = Server::start_with(&[]);
    let author = server.account("fixtures", "author");
    let a = server.account("tenant-a", "tenant");
    let b = server.account("tenant-b", "tenant");
    let v100 = spleis_tests::versioned_fixture("1.0.0", &["storage"]);
    let v110 = spleis_tests::versioned_fixture("1.1.0", &["storage", "events"]);
    assert_eq!(server.publish_bytes(&author, &v100).0, 201);
    let (status, body) = server.request(
        "POST",
        "/v1/installs",
        &a,
        Some(json!({"package": "fixtures/versioned", "requirement": "^1", "grants": ["storage"]})),
    );
    assert_eq!(status, 201, "{body}");
    let (_, published) = server.publish_bytes(&author, &v110);
    assert_eq!(published["upgrades"]["pending"], json!(["tenant-a"]));
    let (_, inbox) = server.request("GET", "/v1/notifications", &a, None);
    let note = &inbox["items"][0];
    assert_eq!(
        (&note["kind"], &note["subject"]),
        (&json!("upgrade-pending"), &json!("fixtures/versioned")),
        "{inbox}"
    );
    assert!(
        note["text"].as_str().unwrap_or("").contains("1.1.0"),
        "{note}"
    );
    let (_, theirs) = server.request("GET", "/v1/notifications", &b, None);
    assert_eq!(theirs["items"], json!([]));
}
