//! How fast the console's pages answer on the demo data: the real `spleis`
//! binary on SQLite, the demo's accounts signed in, each main page fetched
//! over loopback HTTP 50 times after a warm-up; prints the median and the
//! 95th percentile per page, and the slowest median against the 50 ms
//! target. A benchmark, not a test: nothing here fails on timing.
//!
//! ```sh
//! cargo bench -p spleis-tests --bench console
//! ```

use spleis_tests::Server;
use spleis_tests::demo::demo;
use std::time::{Duration, Instant};

const ROUNDS: usize = 50;

/// Signs in through the form; the session cookie.
fn sign_in(agent: &ureq::Agent, base: &str, token: &str) -> String {
    let page = agent
        .get(&format!("{base}/sign-in"))
        .call()
        .expect("the sign-in page");
    let cookie = page
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .expect("the sign-in cookie")
        .to_owned();
    let html = page.into_string().expect("HTML");
    let nonce = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the form's token")
        .to_owned();
    let answer = agent
        .post(&format!("{base}/sign-in"))
        .set("Cookie", &cookie)
        .send_form(&[("csrf", &nonce), ("token", token)])
        .expect("signed in");
    answer
        .all("set-cookie")
        .into_iter()
        .find(|c| c.starts_with("spleis_session="))
        .and_then(|c| c.split(';').next())
        .expect("the session cookie")
        .to_owned()
}

fn main() {
    let server = Server::start(None);
    let demo = demo(&server);
    let base = server.url.clone();
    let agent = ureq::AgentBuilder::new().redirects(0).build();
    let roles = [
        (
            "tenant",
            demo.energy.as_str(),
            vec![
                "/",
                "/store",
                "/store/examples/energy-tariff",
                "/installs",
                "/usage",
                "/invoices",
                "/invoices/INV-{c}-0001",
                "/investments",
                "/account",
            ],
        ),
        (
            "author",
            demo.author.as_str(),
            vec![
                "/",
                "/plugins",
                "/plugins/examples/energy-tariff",
                "/earnings",
            ],
        ),
        (
            "operator",
            demo.operator.as_str(),
            vec![
                "/",
                "/operator/close",
                "/operator/tenants",
                "/operator/agreements",
                "/operator/ledger",
                "/investments",
                "/campaigns",
                "/invoices",
            ],
        ),
    ];
    let compact = demo.period.replace('-', "");
    println!(
        "{:<10} {:<36} {:>10} {:>10}",
        "role", "page", "median", "p95"
    );
    let mut slowest = (Duration::ZERO, String::new());
    for (role, token, pages) in roles {
        let cookie = sign_in(&agent, &base, token);
        for page in pages {
            let path = page.replace("{c}", &compact);
            let url = format!("{base}{path}");
            let fetch = || {
                let response = agent
                    .get(&url)
                    .set("Cookie", &cookie)
                    .call()
                    .expect("the page");
                assert_eq!(response.status(), 200, "{path}");
                response.into_string().expect("HTML")
            };
            for _ in 0..5 {
                fetch();
            }
            let mut times: Vec<Duration> = (0..ROUNDS)
                .map(|_| {
                    let start = Instant::now();
                    fetch();
                    start.elapsed()
                })
                .collect();
            times.sort();
            let median = times[ROUNDS / 2];
            let p95 = times[ROUNDS * 95 / 100];
            println!(
                "{role:<10} {path:<36} {:>8.2}ms {:>8.2}ms",
                ms(median),
                ms(p95)
            );
            if median > slowest.0 {
                slowest = (median, format!("{role} {path}"));
            }
        }
    }
    println!(
        "slowest median: {:.2} ms ({}); target < 50 ms: {}",
        ms(slowest.0),
        slowest.1,
        if slowest.0 < Duration::from_millis(50) {
            "met"
        } else {
            "NOT met"
        }
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
