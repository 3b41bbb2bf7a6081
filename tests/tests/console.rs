//! The web console in a real browser: headless Chromium from Debian's
//! packages, driven through WebDriver (chromedriver) with fantoccini,
//! against the real `spleis` binary with the demo's data. Each role signs
//! in through the one-click link; the figures on its pages are compared
//! with what the API answers the same account; a tenant cannot open
//! another tenant's invoice or install by URL; a form whose CSRF token was
//! tampered with is refused; screenshots of the main pages are saved under
//! `target/console-screenshots/`.
//!
//! Without chromium and chromedriver the test says so and passes, unless
//! `SPLEIS_REQUIRE_CHROMIUM` is set (`scripts/test` installs them and sets it).

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use spleis_tests::Server;
use spleis_tests::demo::{Demo, demo};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver on a free port, killed on drop.
struct Driver {
    child: Child,
    url: String,
    _profile: tempfile::TempDir,
}

impl Driver {
    fn start() -> Option<Driver> {
        if !Path::new(CHROMIUM).exists() || !Path::new(CHROMEDRIVER).exists() {
            assert!(
                std::env::var_os("SPLEIS_REQUIRE_CHROMIUM").is_none(),
                "chromium and chromium-driver are required here (apt-get install chromium chromium-driver)"
            );
            eprintln!("skipped: no {CHROMIUM} or {CHROMEDRIVER}");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _profile: tempfile::tempdir().expect("a profile directory"),
        })
    }

    async fn browser(&self) -> Client {
        let profile = format!("--user-data-dir={}", self._profile.path().display());
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                         "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync",
                         "--disable-dev-shm-usage", "--window-size=1280,1000",
                         "--lang=en-US", profile],
            }),
        );
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("a WebDriver session")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where screenshots go: `target/console-screenshots/`.
fn screenshots() -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its path");
    // target/<profile>/deps/console-…
    let target = exe
        .ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| spleis_tests::repo_root().join("target"));
    let dir = target.join("console-screenshots");
    std::fs::create_dir_all(&dir).expect("the screenshot directory");
    dir
}

async fn shoot(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("a screenshot");
    std::fs::write(screenshots().join(format!("{name}.png")), png).expect("saved");
}

async fn goto(client: &Client, base: &str, path: &str) {
    client
        .goto(&format!("{base}{path}"))
        .await
        .unwrap_or_else(|e| panic!("{path}: {e}"));
}

async fn text(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no `{css}` on the page: {e}"))
        .text()
        .await
        .expect("its text")
        .replace(['\u{a0}', '\u{202f}'], " ")
}

/// The exact minor units of the amount at `css`.
async fn minor(client: &Client, css: &str) -> i64 {
    let element = client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no `{css}` on the page: {e}"));
    element
        .attr("data-minor")
        .await
        .expect("an attribute")
        .unwrap_or_else(|| panic!("`{css}` has no data-minor"))
        .parse()
        .expect("minor units")
}

/// EUR in English, as the console writes it for this browser.
fn eur(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let m = minor.unsigned_abs();
    let whole = (m / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("EUR {sign}{grouped}.{:02}", m % 100)
}

/// Clicks the element `css`.
async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Clicks `button` and waits until `then` is on the page.
async fn click_and_wait(client: &Client, button: &str, then: &str) {
    click(client, button).await;
    client.wait().for_element(Locator::Css(then)).await.unwrap();
}

async fn sign_in(client: &Client, base: &str, token: &str) {
    // The one-click link: the token rides in the fragment.
    goto(client, base, &format!("/sign-in#token={token}")).await;
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("header.top"))
        .await
        .expect("signed in: the console's header");
    let url = client.current_url().await.expect("a URL");
    assert!(
        !url.as_str().contains("token"),
        "the token stays in the address bar: {url}"
    );
}

async fn sign_out(client: &Client) {
    client
        .find(Locator::Css(".who button[type=submit]"))
        .await
        .expect("the sign-out button")
        .click()
        .await
        .expect("clicked");
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("form#sign-in"))
        .await
        .expect("signed out");
}

fn api(server: &Server, path: &str, token: &str) -> Value {
    let (status, body) = server.request("GET", path, token, None);
    assert_eq!(status, 200, "{path}: {body}");
    body
}

#[tokio::test(flavor = "multi_thread")]
async fn every_role_sees_in_the_browser_what_the_api_shows() {
    let Some(driver) = Driver::start() else {
        return;
    };
    let server = Server::start(None);
    let demo: Demo = demo(&server);
    let base = server.url.clone();
    let client = driver.browser().await;

    // ── acme-energy: tenant and investor ─────────────────────────────────
    sign_in(&client, &base, &demo.energy).await;
    shoot(&client, "tenant-overview").await;

    goto(&client, &base, "/investments").await;
    let investments = api(&server, "/v1/investments", &demo.energy);
    let list = investments["investments"]
        .as_array()
        .or_else(|| investments.as_array())
        .expect("investments")
        .clone();
    assert_eq!(list.len(), 1, "{investments}");
    for inv in &list {
        let id = inv["id"].as_str().expect("an id");
        let at = |class: &str| format!("#investment-{id} .{class} .amount");
        for (class, field) in [
            ("invested", "principal"),
            ("cap", "cap"),
            ("paid", "paid"),
            ("remaining", "remaining"),
            ("projected-revenue", "projected_revenue"),
            ("projected-payout", "projected_payout"),
        ] {
            assert_eq!(
                minor(&client, &at(class)).await,
                inv[field].as_i64().unwrap(),
                "{class}"
            );
        }
        assert_eq!(
            text(&client, &at("paid")).await,
            eur(inv["paid"].as_i64().unwrap())
        );
    }
    shoot(&client, "investor-dashboard").await;

    goto(&client, &base, "/invoices").await;
    let invoices = api(&server, "/v1/invoices", &demo.energy);
    let invoices = invoices["invoices"]
        .as_array()
        .or_else(|| invoices.as_array())
        .expect("invoices")
        .clone();
    assert!(!invoices.is_empty());
    let number = invoices[0]["number"].as_str().expect("a number").to_owned();
    let total = invoices[0]["total"].as_i64().expect("a total");
    assert_eq!(
        minor(
            &client,
            &format!("tr[data-number='{number}'] .total .amount")
        )
        .await,
        total
    );
    goto(&client, &base, &format!("/invoices/{number}")).await;
    assert_eq!(minor(&client, "#invoice-total .amount").await, total);
    assert_eq!(
        minor(&client, "#amount-due .amount").await,
        invoices[0]["amount_due"].as_i64().unwrap()
    );
    let page = client.source().await.expect("the page");
    for expected in [
        "Spleis Platform AS",
        "Acme Energy GmbH",
        "Energiestraße 5",
        "Due",
    ] {
        assert!(page.contains(expected), "the invoice lacks `{expected}`");
    }
    assert!(!page.contains('`'), "a backtick on the invoice");
    shoot(&client, "invoice").await;

    goto(&client, &base, "/usage").await;
    let report = api(&server, "/v1/reports/usage", &demo.energy);
    let mut calls: std::collections::BTreeMap<String, i64> = Default::default();
    for row in report["calls"].as_array().expect("calls") {
        *calls
            .entry(row["plugin"].as_str().unwrap().to_owned())
            .or_default() += row["calls"].as_i64().unwrap();
    }
    assert!(!calls.is_empty(), "the open month has calls: {report}");
    for (plugin, n) in &calls {
        let cell = client
            .find(Locator::Css(&format!("tr[data-plugin='{plugin}'] .calls")))
            .await
            .expect("a row per plugin");
        assert_eq!(
            cell.attr("data-calls").await.unwrap().unwrap(),
            n.to_string(),
            "{plugin}"
        );
    }
    assert!(
        client
            .find(Locator::Css("figure.chart svg rect.bar"))
            .await
            .is_ok(),
        "the daily chart"
    );
    shoot(&client, "usage").await;

    goto(&client, &base, "/store").await;
    let catalog = api(&server, "/v1/packages", &demo.energy);
    let catalog = catalog["packages"]
        .as_array()
        .or_else(|| catalog.as_array())
        .expect("packages")
        .len();
    assert_eq!(
        client
            .find_all(Locator::Css("li.card"))
            .await
            .unwrap()
            .len(),
        catalog
    );
    shoot(&client, "store").await;
    // Search narrows the store.
    client
        .find(Locator::Css("#q"))
        .await
        .unwrap()
        .send_keys("tariff")
        .await
        .unwrap();
    click(&client, "form.search button").await;
    // The old page's cards are there until the new page loads: wait for
    // the search's address first.
    for _ in 0..100 {
        if client
            .current_url()
            .await
            .unwrap()
            .as_str()
            .contains("q=tariff")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    client
        .wait()
        .for_element(Locator::Css("li.card"))
        .await
        .unwrap();
    assert_eq!(
        client
            .find_all(Locator::Css("li.card"))
            .await
            .unwrap()
            .len(),
        1
    );

    goto(&client, &base, "/store/examples/vat-invoice").await;
    let page = client.source().await.unwrap();
    assert!(
        page.contains("Each call of calculate costs EUR"),
        "the plan in words"
    );
    assert!(
        client.find(Locator::Css("#example-total")).await.is_ok(),
        "a worked example"
    );
    shoot(&client, "plugin").await;

    goto(&client, &base, "/installs/examples/energy-tariff").await;
    shoot(&client, "install").await;

    // A form whose CSRF token was tampered with is refused, and nothing changes.
    goto(&client, &base, "/account").await;
    client
        .execute(
            "document.querySelector('form[action=\"/account/details\"] input[name=csrf]').value = 'forged';\
             document.querySelector('#legal_name').value = 'Forged Ltd';\
             document.querySelector('form[action=\"/account/details\"]').submit();",
            vec![],
        )
        .await
        .expect("the script runs");
    client
        .wait()
        .for_element(Locator::Css("p.error"))
        .await
        .unwrap();
    assert_eq!(text(&client, "h1").await, "Not allowed");
    let details = api(&server, "/v1/parties/acme-energy", &demo.energy);
    assert_eq!(details["legal_name"], "Acme Energy GmbH");
    // The same form with its token goes through.
    goto(&client, &base, "/account").await;
    let name = client.find(Locator::Css("#legal_name")).await.unwrap();
    name.clear().await.unwrap();
    name.send_keys("Acme Energy SE").await.unwrap();
    click_and_wait(&client, "form[action='/account/details'] button", "#terms").await;
    // `#terms` is on the page before the form is sent too: wait for the
    // saved details rather than for the page.
    let mut details = Value::Null;
    for _ in 0..100 {
        details = api(&server, "/v1/parties/acme-energy", &demo.energy);
        if details["legal_name"] == "Acme Energy SE" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(details["legal_name"], "Acme Energy SE");
    sign_out(&client).await;
    // Signed out, a page sends the browser to sign in.
    goto(&client, &base, "/usage").await;
    client
        .wait()
        .for_element(Locator::Css("form#sign-in"))
        .await
        .unwrap();

    // ── sports-club: another tenant's pages are not found by URL ────────
    sign_in(&client, &base, &demo.club).await;
    goto(&client, &base, &format!("/invoices/{number}")).await;
    assert_eq!(text(&client, "h1").await, "Not found");
    goto(&client, &base, "/installs/examples/energy-tariff").await;
    assert_eq!(text(&client, "h1").await, "Not found");
    goto(&client, &base, "/operator/ledger").await;
    assert_eq!(text(&client, "h1").await, "Not allowed");
    goto(&client, &base, "/invoices").await;
    assert!(
        !client.source().await.unwrap().contains(&number),
        "acme's invoice listed for sports-club"
    );
    sign_out(&client).await;

    // ── the author ───────────────────────────────────────────────────────
    sign_in(&client, &base, &demo.author).await;
    shoot(&client, "author-overview").await;
    goto(&client, &base, "/plugins").await;
    let report = api(&server, "/v1/reports/usage", &demo.author);
    let tariff: i64 = report["calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["plugin"] == "examples/energy-tariff")
        .map(|r| r["calls"].as_i64().unwrap())
        .sum();
    let cell = client
        .find(Locator::Css(
            "tr[data-plugin='examples/energy-tariff'] .calls",
        ))
        .await
        .unwrap();
    assert_eq!(
        cell.attr("data-calls").await.unwrap().unwrap(),
        tariff.to_string()
    );
    goto(&client, &base, "/earnings").await;
    let statements = api(&server, "/v1/statements", &demo.author);
    let statements = statements["statements"]
        .as_array()
        .or_else(|| statements.as_array())
        .unwrap()
        .clone();
    for s in &statements {
        let n = s["number"].as_str().unwrap();
        assert_eq!(
            minor(&client, &format!("tr[data-number='{n}'] .total .amount")).await,
            s["total"].as_i64().unwrap()
        );
    }
    shoot(&client, "author-earnings").await;
    // The plan editor previews what a sample tenant would pay.
    goto(&client, &base, "/plugins/examples/energy-tariff").await;
    click_and_wait(&client, "button[value=preview]", "#preview #example-total").await;
    shoot(&client, "author-plan").await;
    sign_out(&client).await;

    // ── the operator ─────────────────────────────────────────────────────
    sign_in(&client, &base, &demo.operator).await;
    let periods = api(&server, "/v1/billing/periods", &demo.operator);
    let closed = &periods["closed"][0];
    assert_eq!(closed["period"], demo.period.as_str());
    assert_eq!(
        minor(
            &client,
            &format!("tr[data-period='{}'] .charged .amount", demo.period)
        )
        .await,
        closed["charged"].as_i64().unwrap()
    );
    let ledger = api(&server, "/v1/billing/ledger", &demo.operator);
    assert_eq!(
        text(&client, "#ledger-state").await.contains("balances"),
        ledger["sum"] == 0
    );
    shoot(&client, "operator-month").await;
    goto(&client, &base, "/operator/ledger").await;
    assert_eq!(
        minor(&client, "#ledger-sum .amount").await,
        ledger["sum"].as_i64().unwrap()
    );
    goto(&client, &base, "/operator/close").await;
    shoot(&client, "operator-close").await;
    goto(&client, &base, "/operator/tenants").await;
    shoot(&client, "operator-tenants").await;
    // Every invoice, every tenant's.
    goto(&client, &base, "/invoices").await;
    let all = api(&server, "/v1/invoices", &demo.operator);
    let all = all["invoices"]
        .as_array()
        .or_else(|| all.as_array())
        .unwrap()
        .len();
    assert_eq!(
        client
            .find_all(Locator::Css("#invoices tbody tr"))
            .await
            .unwrap()
            .len(),
        all
    );
    // The language menu: German figures.
    goto(&client, &base, "/locale?set=de").await;
    let charged = text(
        &client,
        &format!("tr[data-period='{}'] .charged", demo.period),
    )
    .await;
    assert!(
        charged.ends_with(" EUR") && charged.contains(','),
        "{charged}"
    );

    client.close().await.expect("the browser closes");
}
