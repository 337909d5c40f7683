//! Headless Chromium driven over WebDriver (Debian's `chromium` and `chromium-driver`),
//! with a small client of our own on reqwest. Chromium is told to send everything that is
//! not loopback to a dead proxy and to resolve no names, so nothing leaves the machine.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};
use tokio::process::{Child, Command};

use super::TempDir;

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
const WAIT: Duration = Duration::from_secs(30);

pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    http: reqwest::Client,
    _profile: TempDir,
}

/// Where the tests write their screenshots (named in the README).
pub fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

impl Browser {
    pub async fn start() -> Self {
        let port = super::free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver (Debian package chromium-driver) starts");
        super::wait_for_port(port, "chromedriver").await;
        let profile = TempDir::new();
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let args = vec![
            "--headless=new".to_owned(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--no-first-run".into(),
            "--no-default-browser-check".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-default-apps".into(),
            "--disable-domain-reliability".into(),
            "--disable-client-side-phishing-detection".into(),
            "--no-pings".into(),
            "--window-size=1280,900".into(),
            // Loopback goes direct; anything else would hit a dead proxy.
            "--proxy-server=http://127.0.0.1:9".into(),
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let response: Value = http
            .post(format!("{base}/session"))
            .json(&json!({
                "capabilities": {"alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args}
                }}
            }))
            .send()
            .await
            .expect("new session")
            .json()
            .await
            .expect("session json");
        let session = response["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {response}"))
            .to_owned();
        Self {
            driver,
            base,
            session,
            http,
            _profile: profile,
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response: Value = request
            .send()
            .await
            .expect("webdriver")
            .json()
            .await
            .expect("webdriver json");
        response["value"].clone()
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let value = self.call(reqwest::Method::POST, path, Some(body)).await;
        if let Some(error) = value.get("error") {
            panic!("webdriver {path}: {error} {}", value["message"]);
        }
        value
    }

    pub async fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }

    pub async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    pub async fn title(&self) -> String {
        self.call(reqwest::Method::GET, "/title", None)
            .await
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    async fn try_find(&self, css: &str) -> Option<String> {
        let value = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        value
            .get(ELEMENT_KEY)
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    /// Waits until `css` matches an element and returns it.
    pub async fn find(&self, css: &str) -> String {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Some(element) = self.try_find(css).await {
                return element;
            }
            if tokio::time::Instant::now() > deadline {
                panic!("no element matches {css:?} on {}", self.url().await);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn exists(&self, css: &str) -> bool {
        self.try_find(css).await.is_some()
    }

    pub async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.post(&format!("/element/{element}/click"), json!({}))
            .await;
    }

    /// Replaces a field's content with `text`, as typing would.
    pub async fn fill(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.post(&format!("/element/{element}/clear"), json!({}))
            .await;
        self.post(
            &format!("/element/{element}/value"),
            json!({ "text": text }),
        )
        .await;
    }

    /// Chooses a local file in a file input.
    pub async fn attach(&self, css: &str, path: &std::path::Path) {
        let element = self.find(css).await;
        self.post(
            &format!("/element/{element}/value"),
            json!({ "text": path.display().to_string() }),
        )
        .await;
    }

    /// Keys pressed with nothing focused but the page.
    pub async fn press(&self, keys: &str) {
        let element = self.find("body").await;
        self.post(
            &format!("/element/{element}/value"),
            json!({ "text": keys }),
        )
        .await;
    }

    pub async fn text(&self, css: &str) -> String {
        let element = self.find(css).await;
        self.call(
            reqwest::Method::GET,
            &format!("/element/{element}/text"),
            None,
        )
        .await
        .as_str()
        .unwrap_or("")
        .to_owned()
    }

    pub async fn execute(&self, script: &str) -> Value {
        self.post("/execute/sync", json!({ "script": script, "args": [] }))
            .await
    }

    /// Waits until the script returns true.
    pub async fn wait_until(&self, what: &str, script: &str) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while self.execute(script).await != Value::Bool(true) {
            if tokio::time::Instant::now() > deadline {
                let text = self
                    .execute("return document.body ? document.body.innerText : '';")
                    .await;
                panic!(
                    "timed out waiting for {what} on {}; the page says: {text}",
                    self.url().await
                );
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    pub async fn wait_for_text(&self, text: &str) {
        let script = format!(
            "return document.body && document.body.innerText.includes({});",
            serde_json::to_string(text).expect("json")
        );
        self.wait_until(&format!("the text {text:?}"), &script)
            .await;
    }

    /// axe-core's WCAG 2.1 A and AA rules on the current page, one line per problem (empty:
    /// none found). Mail bodies are left out: they are the sender's markup, shown in a
    /// sandboxed frame where no script runs.
    pub async fn accessibility_problems(&self) -> Vec<String> {
        let path = std::env::var("TRIBUTARY_AXE_JS").unwrap_or_else(|_| {
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/target/test-tools/axe/node_modules/axe-core/axe.min.js"
            )
            .to_owned()
        });
        let axe = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("axe-core at {path} ({e}): tests/run installs it"));
        let script = format!(
            "const done = arguments[arguments.length - 1];\n{axe}\n\
             axe.run(document, {{ iframes: false, runOnly: {{ type: 'tag', values: \
             ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }} }})\
             .then(r => done(r.violations.flatMap(v => v.nodes.map(n => \
                 v.impact + ' ' + v.id + ': ' + v.help + ' — ' + n.target.join(' ')))))\
             .catch(e => done(['axe failed: ' + e]));"
        );
        let value = self
            .post("/execute/async", json!({ "script": script, "args": [] }))
            .await;
        value
            .as_array()
            .unwrap_or_else(|| panic!("a list from axe, got {value}"))
            .iter()
            .map(|line| line.as_str().unwrap_or("?").to_owned())
            .collect()
    }

    /// Panics with the page's accessibility problems, if any.
    pub async fn assert_accessible(&self, page: &str) {
        let problems = self.accessibility_problems().await;
        assert!(
            problems.is_empty(),
            "{page} has accessibility problems:\n{}",
            problems.join("\n")
        );
    }

    /// Makes pages see `prefers-color-scheme: dark` (or light again), through Chromium's
    /// DevTools protocol.
    pub async fn prefer_dark(&self, dark: bool) {
        let value = if dark { "dark" } else { "light" };
        self.post(
            "/goog/cdp/execute",
            json!({
                "cmd": "Emulation.setEmulatedMedia",
                "params": { "features": [{ "name": "prefers-color-scheme", "value": value }] }
            }),
        )
        .await;
    }

    /// Sends `Accept-Language: languages` with every request from now on, as a browser set
    /// to that language does (DevTools protocol).
    pub async fn prefer_languages(&self, languages: &str) {
        self.post(
            "/goog/cdp/execute",
            json!({ "cmd": "Network.enable", "params": {} }),
        )
        .await;
        self.post(
            "/goog/cdp/execute",
            json!({
                "cmd": "Network.setExtraHTTPHeaders",
                "params": { "headers": { "Accept-Language": languages } }
            }),
        )
        .await;
    }

    /// Makes the page's clock run in this IANA time zone (what `Intl` reports).
    pub async fn use_time_zone(&self, zone: &str) {
        self.post(
            "/goog/cdp/execute",
            json!({ "cmd": "Emulation.setTimezoneOverride", "params": { "timezoneId": zone } }),
        )
        .await;
    }

    pub async fn set_width(&self, width: u32) {
        self.post("/window/rect", json!({"width": width, "height": 900}))
            .await;
    }

    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let data = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().expect("png"))
            .expect("base64");
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        let path = screenshot_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }
}

impl Browser {
    /// Ends the session (Chromium exits) and stops the driver.
    pub async fn quit(mut self) {
        let _ = self.call(reqwest::Method::DELETE, "", None).await;
        let _ = self.driver.kill().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.start_kill();
    }
}
