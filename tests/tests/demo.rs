//! The README's demo command runs through: server up, plugins published,
//! tenants installed and calling, a month closed, and the tour printed.

use spleis_tests::repo_root;
use std::process::Command;

#[test]
fn the_demo_script_runs_its_tour() {
    // A free port: bind, note it, let it go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = Command::new("bash")
        .arg(repo_root().join("scripts").join("demo"))
        .env("SPLEIS_DEMO_EXIT", "1")
        .env("SPLEIS_DEMO_PORT", port.to_string())
        .output()
        .expect("the demo runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for expected in [
        "examples/energy-tariff@0.1.0 published",
        "\"total\": \"1411.46\"",
        "\"gross_total\": \"481.79\"",
        "examples/membership-dues depth 0: ok",
        " closed: ",
        "sum (always zero): 0.00 EUR",
        "minimum monthly commitment of 5.00 EUR",
        "payback of investment inv-",
        "projected payout",
        &format!("spleis is running at http://127.0.0.1:{port}"),
        "sports-club  spl_",
        "sign-in#token=spl_",
        &format!("The web console was at http://127.0.0.1:{port}/"),
    ] {
        assert!(
            stdout.contains(expected),
            "missing `{expected}` in:\n{stdout}"
        );
    }
}
