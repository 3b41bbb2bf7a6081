//! The `spleis` binary: `run` on every example plugin and every hostile
//! plugin, and `inspect`.

use serde_json::json;
use spleis_tests::{plugin_path, spleis, spleis_run_json};

fn path(name: &str) -> String {
    plugin_path(name).to_str().unwrap().to_owned()
}

#[test]
fn run_energy_tariff_prints_the_quote_and_a_usage_line() {
    let input = json!({
        "contract_id": "C-7", "consumption_kwh": "100",
        "tariff": {"currency": "EUR", "base_fee_per_month": "5", "tiers": [{"price_per_kwh": "0.30"}], "vat_rate": "0.2"}
    })
    .to_string();
    let (code, stdout, stderr) = spleis(&[
        "run",
        &path("energy_tariff"),
        "--op",
        "quote",
        "--input",
        &input,
        "--no-cache",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let quote: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(quote["total"], "42.00");
    let usage = stderr
        .lines()
        .find(|l| l.starts_with("usage: "))
        .expect("a usage line");
    assert!(usage.contains("op=quote outcome=ok"), "{usage}");
    assert!(usage.contains("units=active-contract[C-7]=1"), "{usage}");
}

#[test]
fn run_membership_dues_keeps_storage_in_a_file_between_runs() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("storage.json");
    let file = file.to_str().unwrap();
    let wasm = path("membership_dues");
    let add =
        json!({"id": "m1", "name": "Mia", "monthly_dues": "8", "joined": "2026-10"}).to_string();
    let (code, doc) = spleis_run_json(&[
        &wasm,
        "--op",
        "add-member",
        "--input",
        &add,
        "--storage-file",
        file,
        "--no-cache",
    ]);
    assert_eq!(code, 0, "{doc}");
    let (code, doc) = spleis_run_json(&[
        &wasm,
        "--op",
        "list-overdue",
        "--input",
        r#"{"as_of":"2026-11"}"#,
        "--storage-file",
        file,
        "--no-cache",
    ]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(
        doc["output"],
        json!([{"id": "m1", "name": "Mia", "months_due": 2, "owed": "16.00"}])
    );
    // Another tenant sees nothing, even with the same file.
    let (_, doc) = spleis_run_json(&[
        &wasm,
        "--op",
        "list-overdue",
        "--input",
        r#"{"as_of":"2026-11"}"#,
        "--storage-file",
        file,
        "--tenant",
        "other",
        "--no-cache",
    ]);
    assert_eq!(doc["output"], json!([]));
    // The event path.
    let joined = json!({"id": "m2", "name": "Max", "month": "2026-11"}).to_string();
    let (code, doc) = spleis_run_json(&[
        &wasm,
        "--event",
        "member.joined",
        "--input",
        &joined,
        "--storage-file",
        file,
        "--config",
        "default_monthly_dues=5",
        "--no-cache",
    ]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["usage"]["operation"], "event:member.joined");
}

#[test]
fn run_vat_invoice_with_config_and_a_missing_grant() {
    let wasm = path("vat_invoice");
    let input = r#"{"country":"AT","currency":"EUR","lines":[{"description":"x","quantity":"2","unit_price":"10"}]}"#;
    let (code, doc) = spleis_run_json(&[
        &wasm,
        "--op",
        "calculate",
        "--input",
        input,
        "--config",
        "rate.AT.standard=0.20",
        "--no-cache",
    ]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["output"]["gross_total"], "24.00");
    let (code, doc) = spleis_run_json(&[
        &wasm,
        "--op",
        "calculate",
        "--input",
        input,
        "--grant",
        "metering",
        "--no-cache",
    ]);
    assert_eq!(code, 1);
    assert_eq!(doc["error"]["code"], "access-denied");
}

#[test]
fn run_gives_every_hostile_plugin_its_own_error_kind() {
    let wasm = path("hostile");
    for (op, kind) in [
        ("loop", "out-of-fuel"),
        ("memory-bomb", "memory-limit"),
        ("recursion", "stack-overflow"),
        ("panic", "panic"),
        ("trap", "trap"),
        ("huge-output", "output-too-large"),
        ("storage-flood", "storage-quota"),
        ("event-flood", "event-limit"),
        ("log-flood", "log-limit"),
        ("stdout-flood", "log-limit"),
    ] {
        let (code, doc) = spleis_run_json(&[
            &wasm,
            "--op",
            op,
            "--fuel",
            "100000000",
            "--memory-mb",
            "32",
            "--no-cache",
        ]);
        assert_eq!(code, 1, "{op}: {doc}");
        assert_eq!(doc["error"]["kind"], kind, "{op}: {doc}");
        assert_eq!(doc["usage"]["outcome"], kind, "{op}");
    }
    let (code, doc) = spleis_run_json(&[
        &wasm,
        "--op",
        "loop",
        "--fuel",
        "100000000000000",
        "--timeout-ms",
        "100",
        "--no-cache",
    ]);
    assert_eq!(code, 1);
    assert_eq!(doc["error"]["kind"], "timeout");
}

#[test]
fn run_refuses_bad_input_with_exit_code_2() {
    let hostile = path("hostile");
    let foreign = path("foreign_import");
    let cases: [(&[&str], &str); 6] = [
        (&[&foreign, "--op", "x"], "imports `evil:exfil/net`"),
        (
            &[&hostile, "--op", "echo", "--input", "{not json"],
            "--input is not valid JSON",
        ),
        (
            &[&hostile, "--op", "no-such-op"],
            "no operation `no-such-op`",
        ),
        (
            &["/nonexistent.wasm", "--op", "x"],
            "cannot read /nonexistent.wasm",
        ),
        (
            &[&hostile, "--op", "echo", "--grant", "network"],
            "unknown capability `network`",
        ),
        (
            &[&hostile, "--op", "echo", "--memory-mb", "99999999999999"],
            "--memory-mb must be between 1 and 4096",
        ),
    ];
    for (args, words) in cases {
        let mut all = vec!["run"];
        all.extend_from_slice(args);
        all.push("--no-cache");
        let (code, _, stderr) = spleis(&all);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(words), "{args:?}: {stderr}");
    }
}

#[test]
fn inspect_prints_digest_contract_imports_and_exports() {
    let (code, stdout, stderr) = spleis(&["inspect", &path("energy_tariff"), "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let bytes = spleis_tests::plugin("energy_tariff");
    assert_eq!(
        doc["digest"],
        spleis_registry::Digest::of(&bytes).to_string()
    );
    assert_eq!(doc["world"], "spleis:plugin/plugin");
    assert_eq!(doc["contract_version"], "0.1.0");
    assert_eq!(doc["capabilities"], json!(["metering", "log"]));
    assert!(
        doc["imports"]
            .as_array()
            .unwrap()
            .contains(&json!("spleis:plugin/metering@0.1.0"))
    );
    assert_eq!(
        doc["exports"],
        json!([
            "spleis:plugin/handler@0.1.0",
            "spleis:plugin/subscriber@0.1.0"
        ])
    );
    assert_eq!(doc["manifest"]["name"], "examples/energy-tariff");

    let (code, stdout, _) = spleis(&["inspect", &path("membership_dues")]);
    assert_eq!(code, 0);
    assert!(stdout.contains("contract:     0.1.0"));
    assert!(stdout.contains("subscribes:  member.joined"));
}
