//! The web console in a real browser: headless Chromium from Debian's
//! packages, driven through WebDriver (chromedriver) with fantoccini,
//! against the real `spleis` binary with the demo's data. Each role signs
//! in through the one-click link; the figures on its pages are compared
//! with what the API answers the same account; a tenant cannot open
//! another tenant's invoice or install by URL; a form whose CSRF token was
//! tampered with is refused; screenshots of the main pages are saved under
//! `target/console-screenshots/`. The wishlist runs from a wish to a
//! delivery in the browser (post, the similar-requests hint, vote, the
//! operator's queue and assessment, funding, pledges, a decline, the
//! delivery, the investor's dashboard), and no tenant's page names another.
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

/// The date `days` from today (UTC), `YYYY-MM-DD`, as a date input holds it.
fn day_from_today(days: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis();
    let ms = i64::try_from(now).expect("a date") + days * 24 * 3600 * 1000;
    let date = spleis_billing::calendar::Date::from_unix_ms(ms);
    format!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day())
}

/// Types `keys` into the input `css` (emptied first).
async fn fill(client: &Client, css: &str, keys: &str) {
    let input = client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no `{css}` on the page: {e}"));
    input.clear().await.expect("emptied");
    input.send_keys(keys).await.expect("typed");
}

/// Chooses the option `value` of the select `css`.
async fn choose(client: &Client, css: &str, value: &str) {
    click(client, &format!("{css} option[value='{value}']")).await;
}

/// The attribute `name` of the element `css`.
async fn attr(client: &Client, css: &str, name: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no `{css}` on the page: {e}"))
        .attr(name)
        .await
        .expect("an attribute")
        .unwrap_or_else(|| panic!("`{css}` has no {name}"))
}

/// Waits (10 s at most) for `css`.
async fn wait_for(client: &Client, css: &str) {
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("`{css}` never came: {e}"));
}

/// Asserts that the page does not name `account`.
async fn never_names(client: &Client, account: &str, page: &str) {
    let source = client.source().await.expect("the page");
    assert!(!source.contains(account), "{page} names `{account}`");
}

/// The wishlist from a wish to a delivery, in the browser: a tenant posts
/// a request; a second tenant typing a similar title is offered it and
/// votes instead; the operator finds it in the assessment queue, accepts
/// it and opens funding; both tenants pledge (the progress bar moves; an
/// amount over what is left is refused on the page, the amount kept) and
/// the request is planned; a second request is declined with a reason a
/// tenant reads; the author delivers the first with its plugin, and the
/// funder's dashboard shows the request behind its new investment. No
/// tenant's page ever names the other tenant.
#[tokio::test(flavor = "multi_thread")]
async fn wishlist_post_similar_vote_fund_pledge_assess_deliver() {
    let Some(driver) = Driver::start() else {
        return;
    };
    let server = Server::start(None);
    let demo: Demo = demo(&server);
    let base = server.url.clone();
    let client = driver.browser().await;

    // ── acme-energy posts a request ──────────────────────────────────────
    sign_in(&client, &base, &demo.energy).await;
    goto(&client, &base, "/wishlist").await;
    assert_eq!(
        attr(&client, "header nav a[href='/wishlist']", "aria-current").await,
        "page"
    );
    fill(&client, "#title", "CSV export of invoices").await;
    fill(
        &client,
        "#problem",
        "We retype every invoice into our accounting.\nEvery month, by hand.",
    )
    .await;
    fill(&client, "#details", "Columns: number, date, total.").await;
    click_and_wait(&client, "#post-request", "#summary").await;
    let url = client.current_url().await.unwrap();
    assert_eq!(url.path(), "/wishlist/1");
    assert_eq!(text(&client, "h1").await, "#1 CSV export of invoices");
    let problem = text(&client, "#problem").await;
    assert!(
        problem.contains("accounting.\nEvery month"),
        "the problem keeps its line break: {problem:?}"
    );
    assert_eq!(attr(&client, "#votes", "data-votes").await, "1");
    shoot(&client, "wishlist-posted").await;
    sign_out(&client).await;

    // ── sports-club types a similar title, and votes instead ─────────────
    sign_in(&client, &base, &demo.club).await;
    goto(&client, &base, "/wishlist").await;
    never_names(&client, "acme-energy", "the wishlist").await;
    client
        .find(Locator::Css("#title"))
        .await
        .unwrap()
        .send_keys("Export invoices as CSV")
        .await
        .unwrap();
    wait_for(&client, "#similar li[data-request='1'] a.vote-instead").await;
    let hint = text(&client, "#similar").await;
    assert!(
        hint.contains("Similar requests:") && hint.contains("#1 CSV export of invoices"),
        "{hint}"
    );
    assert!(hint.contains("(open, 1 vote)"), "{hint}");
    shoot(&client, "wishlist-similar").await;
    click_and_wait(&client, "#similar a.vote-instead", "#vote form.vote").await;
    click_and_wait(&client, "#vote form.vote button", "#votes[data-votes='2']").await;
    assert!(text(&client, "#vote").await.contains("yours among them"));
    never_names(&client, "acme-energy", "request #1").await;
    sign_out(&client).await;

    // ── the operator: the queue, the assessment, funding ─────────────────
    sign_in(&client, &base, &demo.operator).await;
    assert!(
        text(&client, "#assessment-queue")
            .await
            .contains("1 wishlist request waits"),
        "the month page points at the queue"
    );
    goto(&client, &base, "/wishlist").await;
    wait_for(&client, "#queue tr[data-request='1']").await;
    shoot(&client, "wishlist-queue").await;
    goto(&client, &base, "/wishlist/1").await;
    choose(&client, "#assess-status", "accepted").await;
    fill(&client, "#assess-builder", "examples").await;
    click_and_wait(&client, "#assess button", "#state .badge.status-accepted").await;
    fill(
        &client,
        "#comment",
        "On the development list. Funding opens for those who cannot wait.",
    )
    .await;
    click_and_wait(
        &client,
        "form[action='/wishlist/1/comments'] button",
        "#comments li .marker",
    )
    .await;
    fill(&client, "#goal", "100").await;
    fill(&client, "#return_pct", "10").await;
    let deadline = day_from_today(30);
    client
        .execute(
            "document.getElementById('deadline').value = arguments[0];",
            vec![json!(deadline)],
        )
        .await
        .expect("the deadline set");
    assert_eq!(attr(&client, "#funding-builder", "value").await, "examples");
    click_and_wait(&client, "#open-funding button", "#funding progress").await;
    assert_eq!(attr(&client, "#funding progress", "value").await, "0");
    assert_eq!(attr(&client, "#funding progress", "max").await, "10000");
    shoot(&client, "wishlist-funding-open").await;
    sign_out(&client).await;

    // ── acme-energy pledges: the bar moves ───────────────────────────────
    sign_in(&client, &base, &demo.energy).await;
    goto(&client, &base, "/wishlist/1").await;
    fill(&client, "#amount", "60").await;
    click_and_wait(&client, "#pledge button", "#my-pledge").await;
    assert_eq!(attr(&client, "#funding progress", "value").await, "6000");
    assert_eq!(minor(&client, "#my-pledge .amount").await, 6000);
    assert_eq!(minor(&client, "#funding .left .amount").await, 4000);
    shoot(&client, "wishlist-pledged").await;
    sign_out(&client).await;

    // ── sports-club: too much is refused on the page; the rest funds it ──
    sign_in(&client, &base, &demo.club).await;
    goto(&client, &base, "/wishlist/1").await;
    assert_eq!(attr(&client, "#funding progress", "value").await, "6000");
    never_names(&client, "acme-energy", "the funding").await;
    fill(&client, "#amount", "50").await;
    click_and_wait(&client, "#pledge button", ".error-card").await;
    let refusal = text(&client, ".error-card").await;
    assert!(
        refusal.contains("EUR 40.00 of EUR 100.00 is left to pledge"),
        "the refusal says why, in money: {refusal}"
    );
    assert_eq!(attr(&client, "#amount", "value").await, "50", "kept");
    shoot(&client, "wishlist-pledge-refused").await;
    fill(&client, "#amount", "40").await;
    click_and_wait(&client, "#pledge button", "#my-pledge").await;
    assert_eq!(attr(&client, "#funding progress", "value").await, "10000");
    assert_eq!(attr(&client, "#funding", "data-status").await, "funded");
    wait_for(&client, "#state .badge.status-planned").await;
    assert_eq!(minor(&client, "#my-pledge .amount").await, 4000);
    fill(&client, "#comment", "Glad to chip in.\nWe use it monthly.").await;
    click_and_wait(
        &client,
        "form[action='/wishlist/1/comments'] button",
        "#comments li:nth-child(2)",
    )
    .await;
    assert!(
        text(&client, "#comments li:nth-child(2) .meta")
            .await
            .contains("you")
    );
    never_names(&client, "acme-energy", "the funded request").await;
    let detail = api(&server, "/v1/requests/1", &demo.operator);
    assert_eq!(detail["funding"]["pledged"], 10_000, "{detail}");
    sign_out(&client).await;

    // ── the operator declines a second request, with a reason ────────────
    let (status, posted) = server.request(
        "POST",
        "/v1/requests",
        &demo.energy,
        Some(json!({"title": "Dark mode for the console", "problem": "Bright screens at night."})),
    );
    assert_eq!(status, 201, "{posted}");
    let reason = "Only one tenant asked: the console follows the system's colours.";
    sign_in(&client, &base, &demo.operator).await;
    goto(&client, &base, "/wishlist/2").await;
    choose(&client, "#assess-status", "declined").await;
    click_and_wait(&client, "#assess button", ".error-card").await;
    assert!(text(&client, ".error-card").await.contains("reason"));
    choose(&client, "#assess-status", "declined").await;
    fill(&client, "#reason", reason).await;
    click_and_wait(&client, "#assess button", "#state .badge.status-declined").await;
    sign_out(&client).await;
    sign_in(&client, &base, &demo.club).await;
    goto(&client, &base, "/wishlist/2").await;
    assert_eq!(text(&client, "#reason").await, reason);
    assert!(
        client.find(Locator::Css("#vote form.vote")).await.is_err(),
        "a declined request takes no votes"
    );
    never_names(&client, "acme-energy", "request #2").await;
    shoot(&client, "wishlist-declined").await;
    goto(&client, &base, "/wishlist?status=declined").await;
    wait_for(&client, "#requests tr[data-request='2']").await;
    assert!(
        client
            .find(Locator::Css("#requests tr[data-request='1']"))
            .await
            .is_err(),
        "the status filter"
    );
    sign_out(&client).await;

    // ── the author delivers request #1 with its plugin ───────────────────
    // The tariff plugin pays back an investor already: a request's funders
    // get a plugin of their own (membership dues, with an investor share).
    let (status, body) = server.request(
        "PUT",
        "/v1/packages/examples/membership-dues/agreement",
        &server.operator,
        Some(serde_json::json!({"investor_share_bps": 3000})),
    );
    assert_eq!(status, 200, "{body}");
    sign_in(&client, &base, &demo.author).await;
    goto(&client, &base, "/wishlist/1").await;
    fill(&client, "#package", "examples/membership-dues").await;
    fill(&client, "#version", "0.1.0").await;
    click_and_wait(&client, "#deliver button", "#delivery").await;
    wait_for(&client, "#state .badge.status-delivered").await;
    assert_eq!(
        attr(&client, "#delivery a", "href").await,
        "/store/examples/membership-dues"
    );
    shoot(&client, "wishlist-delivered").await;
    sign_out(&client).await;

    // ── the funder reads the comments and the history: "you", "operator"
    sign_in(&client, &base, &demo.energy).await;
    goto(&client, &base, "/wishlist/1").await;
    let comments = client.find_all(Locator::Css("#comments li")).await.unwrap();
    assert_eq!(comments.len(), 2);
    assert_eq!(
        text(&client, "#comments li:nth-child(1) .marker").await,
        "operator"
    );
    assert!(
        client
            .find(Locator::Css("#comments li:nth-child(2) .marker"))
            .await
            .is_err(),
        "another tenant's comment carries no marker"
    );
    let second = text(&client, "#comments li:nth-child(2) p.text").await;
    assert_eq!(second, "Glad to chip in.\nWe use it monthly.");
    let history = text(&client, "#history").await;
    for step in [
        "open → accepted",
        "accepted → planned",
        "planned → delivered",
    ] {
        assert!(history.contains(step), "{step} in {history}");
    }
    never_names(&client, "sports-club", "request #1 for acme-energy").await;
    client
        .execute(
            "document.getElementById('comments-h').scrollIntoView();",
            vec![],
        )
        .await
        .expect("scrolled");
    shoot(&client, "wishlist-comments-history").await;

    // ── the funder's dashboard shows the request behind its investment ───
    goto(&client, &base, "/investments").await;
    wait_for(&client, "p.from-request a[href='/wishlist/1']").await;
    shoot(&client, "investor-request").await;
    never_names(&client, "sports-club", "acme-energy's investments").await;
    goto(&client, &base, "/campaigns").await;
    wait_for(&client, "h2 a[href='/wishlist/1']").await;

    client.close().await.expect("the browser closes");
}
