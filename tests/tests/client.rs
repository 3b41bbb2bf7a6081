//! The `spleis` command line as a client of a running server.

use serde_json::{Value, json};
use spleis_tests::{Server, repo_root, spleis_bin};
use std::process::Command;

fn spleis_as(
    server: &Server,
    token: &str,
    config: &std::path::Path,
    args: &[&str],
) -> (i32, String, String) {
    let out = Command::new(spleis_bin())
        .args(args)
        .env("SPLEIS_SERVER", &server.url)
        .env("SPLEIS_TOKEN", token)
        .env("XDG_CONFIG_HOME", config)
        .output()
        .expect("spleis runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn publish_install_call_emit_and_usage_from_the_command_line() {
    let server = Server::start(None);
    let config = tempfile::tempdir().unwrap();
    let author = server.account("examples", "author");
    let tenant = server.account("shop", "tenant");
    let crate_dir = repo_root().join("example-plugins").join("vat-invoice");

    // `publish` in a plugin crate builds it and sends its manifest.
    let (code, out, err) = spleis_as(
        &server,
        &author,
        config.path(),
        &["publish", crate_dir.to_str().unwrap(), "--json"],
    );
    assert_eq!(code, 0, "{err}");
    let published: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(published["version"]["package"], "examples/vat-invoice");

    let (code, out, err) = spleis_as(
        &server,
        &tenant,
        config.path(),
        &[
            "install",
            "examples/vat-invoice@^0.1",
            "--config",
            "rate.DE.standard=0.19",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("installed examples/vat-invoice@0.1.0"),
        "{out}"
    );

    let input = r#"{"country":"DE","currency":"EUR","lines":[{"description":"x","quantity":"1","unit_price":"100"}]}"#;
    let (code, out, err) = spleis_as(
        &server,
        &tenant,
        config.path(),
        &[
            "call",
            "examples/vat-invoice",
            "calculate",
            "--input",
            input,
            "--idempotency-key",
            "k1",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let answer: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(answer["gross_total"], "119.00");
    assert!(err.contains("usage: outcome=ok version=0.1.0"), "{err}");
    let (code, _, _) = spleis_as(
        &server,
        &tenant,
        config.path(),
        &[
            "call",
            "examples/vat-invoice",
            "calculate",
            "--input",
            r#"{"country":"FR","currency":"EUR","lines":[{"description":"x","quantity":"1","unit_price":"1"}]}"#,
        ],
    );
    assert_eq!(code, 1, "a plugin error exits 1");

    let (code, out, err) = spleis_as(
        &server,
        &tenant,
        config.path(),
        &["emit", "nobody.listens", "--json"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap(),
        json!({"deliveries": []})
    );

    let (code, out, _) = spleis_as(&server, &tenant, config.path(), &["usage", "--json"]);
    assert_eq!(code, 0);
    let usage: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(usage["records"].as_array().map(Vec::len), Some(2));

    // Errors carry the server's message; the exit code is 2.
    let (code, _, err) = spleis_as(
        &server,
        &tenant,
        config.path(),
        &["publish", crate_dir.to_str().unwrap()],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("needs a token of role author or operator"),
        "{err}"
    );

    // `login` saves the server and token for later commands.
    let (code, out, err) = spleis_as(&server, &tenant, config.path(), &["login"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("as \"shop\""), "{out}");
    let out = Command::new(spleis_bin())
        .args(["catalog"])
        .env_remove("SPLEIS_SERVER")
        .env_remove("SPLEIS_TOKEN")
        .env("XDG_CONFIG_HOME", config.path())
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("examples/vat-invoice"),
        "{:?}",
        out
    );
}

#[test]
fn tokens_are_created_listed_and_revoked_from_the_command_line() {
    let server = Server::start(None);
    let config = tempfile::tempdir().unwrap();
    let tenant = server.account("shop", "tenant");
    let run = |token: &str, args: &[&str]| spleis_as(&server, token, config.path(), args);

    // A named token that expires, shown once.
    let (code, out, err) = run(
        &tenant,
        &[
            "tokens",
            "create",
            "ci",
            "--expires-in-days",
            "30",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let created: Value = serde_json::from_str(&out).unwrap();
    let (secret, id) = (
        created["token"].as_str().unwrap().to_owned(),
        created["info"]["id"].as_str().unwrap().to_owned(),
    );
    assert!(created["info"]["expires_at"].is_i64(), "{out}");
    assert_eq!(run(&secret, &["limits"]).0, 0, "the new token works");

    // Listed by id and label, never with its secret.
    let (code, out, err) = run(&tenant, &["tokens", "list"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&id) && out.contains("ci"), "{out}");
    assert!(!out.contains(&secret), "{out}");
    // Out of range: refused by the command line, naming the range.
    let (code, _, err) = run(
        &tenant,
        &["tokens", "create", "x", "--expires-in-days", "0"],
    );
    assert_ne!(code, 0);
    assert!(err.contains("1..=3650") || err.contains("3650"), "{err}");

    // Revoked: refused at once on this node.
    let (code, out, err) = run(&tenant, &["tokens", "revoke", &id]);
    assert_eq!(
        (code, out.trim()),
        (0, format!("revoked {id}").as_str()),
        "{err}"
    );
    let (code, _, err) = run(&secret, &["limits"]);
    assert_ne!(code, 0);
    assert!(err.contains("unknown or revoked token"), "{err}");

    // The operator revokes any account's token.
    let other = run(&tenant, &["tokens", "create", "other", "--json"]).1;
    let other: Value = serde_json::from_str(&other).unwrap();
    let other_id = other["info"]["id"].as_str().unwrap();
    let (code, _, err) = run(
        &server.operator,
        &["tokens", "revoke", other_id, "--account", "shop"],
    );
    assert_eq!(code, 0, "{err}");
    let (_, out, _) = run(&server.operator, &["tokens", "list", "--account", "shop"]);
    assert!(out.contains(other_id) && out.contains("revoked"), "{out}");
    assert_ne!(run(other["token"].as_str().unwrap(), &["limits"]).0, 0);
}
