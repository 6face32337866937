//! The console in a real browser: Debian's Chromium, headless, driven through its own ChromeDriver with a
//! WebDriver client. Elements are found by `data-testid`; every wait polls a condition against a deadline and says
//! what it waited for when it gives up (with the page's text), never a fixed sleep.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context as _, anyhow, bail};
use fantoccini::{Client, ClientBuilder, Locator, elements::Element};

/// Debian's browser and driver (packages `chromium` and `chromium-driver`).
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How often a wait polls.
const POLL: Duration = Duration::from_millis(100);

/// A running ChromeDriver, shared by the test's browsers; killed on drop.
pub struct Driver {
    child: Child,
    url: String,
    dir: PathBuf,
    runtime: tokio::runtime::Runtime,
}

impl Driver {
    /// Starts ChromeDriver on a free loopback port; browser profiles go under `dir`.
    pub fn start(dir: &Path) -> anyhow::Result<Self> {
        for tool in [CHROMIUM, CHROMEDRIVER] {
            if !Path::new(tool).exists() {
                bail!("{tool} is missing: install Debian's chromium and chromium-driver (cargo xtask test does)");
            }
        }
        let port = crate::free_ports(1)?.first().copied().ok_or_else(|| anyhow!("no free port"))?;
        let log = std::fs::File::create(dir.join("chromedriver.log")).context("cannot create the driver log")?;
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("cannot start chromedriver")?;
        // The WebDriver client speaks plain HTTP to the local driver, but its connector needs rustls' provider.
        rustls::crypto::ring::default_provider().install_default().ok();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let driver = Self { child, url: format!("http://127.0.0.1:{port}"), dir: dir.to_path_buf(), runtime };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(2)))
            .http_status_as_error(false)
            .build()
            .into();
        let deadline = deadline(Duration::from_secs(20));
        loop {
            if agent.get(format!("{}/status", driver.url)).call().is_ok() {
                return Ok(driver);
            }
            if Instant::now() >= deadline {
                bail!("chromedriver did not answer on {} within 20 s", driver.url);
            }
            std::thread::sleep(POLL);
        }
    }

    /// Opens a new browser session with its own fresh profile (so sessions share no cookies or storage).
    pub fn browser(&self, name: &str) -> anyhow::Result<Browser<'_>> {
        let profile = self.dir.join(format!("profile-{name}"));
        if profile.exists() {
            std::fs::remove_dir_all(&profile).ok();
        }
        std::fs::create_dir_all(&profile)?;
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1280,900",
        ];
        let mut all: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        all.push(format!("--user-data-dir={}", profile.display()));
        let mut caps = serde_json::Map::new();
        caps.insert("goog:chromeOptions".into(), serde_json::json!({ "binary": CHROMIUM, "args": all }));
        let client = self
            .runtime
            .block_on(ClientBuilder::rustls()?.capabilities(caps).connect(&self.url))
            .with_context(|| format!("cannot open a browser session on {}", self.url))?;
        Ok(Browser { driver: self, client: Some(client), name: name.to_owned() })
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

pub(crate) fn deadline(timeout: Duration) -> Instant {
    Instant::now().checked_add(timeout).unwrap_or_else(Instant::now)
}

fn by_testid(id: &str) -> String {
    format!("[data-testid=\"{id}\"]")
}

/// One browser session (its own profile, cookies and tab).
pub struct Browser<'d> {
    driver: &'d Driver,
    client: Option<Client>,
    name: String,
}

impl Browser<'_> {
    fn client(&self) -> anyhow::Result<&Client> {
        self.client.as_ref().ok_or_else(|| anyhow!("the browser session is closed"))
    }

    fn block<T>(
        &self,
        future: impl std::future::Future<Output = Result<T, fantoccini::error::CmdError>>,
    ) -> anyhow::Result<T> {
        self.driver.runtime.block_on(future).map_err(|e| anyhow!("{}: {e}", self.name))
    }

    /// Opens `url`.
    pub fn goto(&self, url: &str) -> anyhow::Result<()> {
        self.block(self.client()?.goto(url))
    }

    /// The current URL.
    pub fn url(&self) -> anyhow::Result<String> {
        Ok(self.block(self.client()?.current_url())?.to_string())
    }

    /// The element with `data-testid` `id`, if present now.
    pub fn find(&self, id: &str) -> anyhow::Result<Option<Element>> {
        let selector = by_testid(id);
        match self.driver.runtime.block_on(self.client()?.find(Locator::Css(&selector))) {
            Ok(element) => Ok(Some(element)),
            Err(e) if e.is_no_such_element() => Ok(None),
            Err(e) => Err(anyhow!("{}: finding {id}: {e}", self.name)),
        }
    }

    /// The visible text of the page's body (for failure messages).
    pub fn page_text(&self) -> String {
        self.client()
            .ok()
            .and_then(|c| self.driver.runtime.block_on(async { c.find(Locator::Css("body")).await?.text().await }).ok())
            .unwrap_or_default()
    }

    /// Waits until the element `id` exists and `check(text, enabled)` holds; returns it.
    pub fn wait_for(
        &self,
        id: &str,
        timeout: Duration,
        mut check: impl FnMut(&str, bool) -> bool,
    ) -> anyhow::Result<Element> {
        let end = deadline(timeout);
        let mut last = String::new();
        loop {
            if let Some(element) = self.find(id)? {
                let text = self.driver.runtime.block_on(element.text()).unwrap_or_default();
                let enabled = self.driver.runtime.block_on(element.is_enabled()).unwrap_or(false);
                if check(&text, enabled) {
                    return Ok(element);
                }
                last = text;
            }
            if Instant::now() >= end {
                self.save_failure(id);
                bail!(
                    "{}: timed out after {timeout:?} waiting for [{id}] (last text {last:?}); the page shows:\n{}",
                    self.name,
                    self.page_text().chars().take(3000).collect::<String>()
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// Waits for element `id` to exist.
    pub fn wait(&self, id: &str, timeout: Duration) -> anyhow::Result<Element> {
        self.wait_for(id, timeout, |_, _| true)
    }

    /// Waits until element `id`'s text contains `needle`.
    pub fn wait_text(&self, id: &str, needle: &str, timeout: Duration) -> anyhow::Result<String> {
        let element = self.wait_for(id, timeout, |text, _| text.contains(needle))?;
        Ok(self.driver.runtime.block_on(element.text()).unwrap_or_default())
    }

    /// Clicks element `id` once it exists and is enabled.
    pub fn click(&self, id: &str) -> anyhow::Result<()> {
        let element = self.wait_for(id, Duration::from_secs(20), |_, enabled| enabled)?;
        self.block(element.click())
    }

    /// Replaces the text of element `id` with `text`, typed as a person would.
    pub fn fill(&self, id: &str, text: &str) -> anyhow::Result<()> {
        let element = self.wait(id, Duration::from_secs(20))?;
        self.block(element.clear())?;
        self.block(element.send_keys(text))
    }

    /// Chooses the file `path` in the file input `id`.
    pub fn upload(&self, id: &str, path: &Path) -> anyhow::Result<()> {
        let path = path.canonicalize().with_context(|| format!("{} does not exist", path.display()))?;
        self.fill(id, &path.to_string_lossy())
    }

    /// The text of element `id` now.
    pub fn text(&self, id: &str) -> anyhow::Result<String> {
        let element = self.find(id)?.ok_or_else(|| anyhow!("{}: no element [{id}]", self.name))?;
        self.block(element.text())
    }

    /// Downloads what link `id` points at, as clicking it would: fetched from the page with its cookies. Returns the
    /// body; fails on any status but 200, with the body.
    pub fn download(&self, id: &str) -> anyhow::Result<String> {
        let link = self.wait(id, Duration::from_secs(20))?;
        let href = self.block(link.attr("href"))?.ok_or_else(|| anyhow!("{}: [{id}] has no href", self.name))?;
        let script = "const [href, done] = arguments; \
                      fetch(href, { credentials: 'same-origin' }) \
                        .then(async (r) => done([r.status, await r.text()])) \
                        .catch((e) => done([0, String(e)]));";
        let answer = self.block(self.client()?.execute_async(script, vec![serde_json::json!(href)]))?;
        let status = answer.get(0).and_then(serde_json::Value::as_u64).unwrap_or(0);
        let body = answer.get(1).and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
        if status != 200 {
            bail!("{}: downloading {href} from [{id}] answered {status}: {body}", self.name);
        }
        Ok(body)
    }

    /// Waits until the page has hydrated: the console marks the document's root with `data-hydrated` once its
    /// WebAssembly runs (an attribute, nothing a user sees).
    pub fn wait_hydrated(&self) -> anyhow::Result<()> {
        let end = deadline(Duration::from_secs(30));
        let client = self.client()?;
        loop {
            let marked = self.driver.runtime.block_on(client.find(Locator::Css("html[data-hydrated]"))).is_ok();
            if marked {
                return Ok(());
            }
            if Instant::now() >= end {
                self.save_failure("hydration");
                bail!("{}: the page did not hydrate within 30 s:\n{}", self.name, self.page_text());
            }
            std::thread::sleep(POLL);
        }
    }

    /// Opens the console at `base`, waits for hydration, loads `key` and signs in; waits until the header names
    /// `account`.
    pub fn sign_in(&self, base: &str, key: &Path, account: &str) -> anyhow::Result<()> {
        self.sign_in_keeping(base, key, account, None)
    }

    /// Signs in as [`Self::sign_in`] does; with a `passphrase`, then keeps the key in this browser sealed under it,
    /// so a later page load can unlock it.
    pub fn sign_in_keeping(
        &self,
        base: &str,
        key: &Path,
        account: &str,
        passphrase: Option<&str>,
    ) -> anyhow::Result<()> {
        self.goto(&format!("{base}/"))?;
        self.wait_hydrated()?;
        self.click("nav-login")?;
        self.upload("key-file", key)?;
        self.wait_text("key-public", "ed25519:", Duration::from_secs(10))?;
        self.click("sign-in")?;
        self.wait_text("who", account, Duration::from_secs(20))?;
        // Keeping is offered once the key has signed in (a key with no account is never kept).
        if let Some(passphrase) = passphrase {
            self.fill("keep-passphrase", passphrase)?;
            self.fill("keep-passphrase-again", passphrase)?;
            self.click("keep-key-button")?;
            self.wait("key-kept", Duration::from_secs(20))?;
        }
        self.click("continue")?;
        self.wait("nav-overview", Duration::from_secs(10))?;
        Ok(())
    }

    /// From now on, records in the page every error it reports: `console.error` (a WebAssembly panic is printed
    /// there), uncaught errors and rejected promises. [`Self::page_errors`] reads them.
    pub fn watch_errors(&self) -> anyhow::Result<()> {
        self.script(
            "if (!window.__synodErrors) {
                 window.__synodErrors = [];
                 const original = console.error.bind(console);
                 console.error = (...parts) => { window.__synodErrors.push(parts.map(String).join(' ')); original(...parts); };
                 window.addEventListener('error', e => window.__synodErrors.push('error: ' + e.message));
                 window.addEventListener('unhandledrejection', e => window.__synodErrors.push('rejection: ' + e.reason));
             }",
            Vec::new(),
        )?;
        Ok(())
    }

    /// The errors recorded since [`Self::watch_errors`] (none when the page was replaced since: watch again).
    pub fn page_errors(&self) -> anyhow::Result<Vec<String>> {
        let errors = self.script("return window.__synodErrors || [];", Vec::new())?;
        Ok(errors.as_array().into_iter().flatten().filter_map(|e| e.as_str().map(str::to_owned)).collect())
    }

    /// Chooses `tag` (`en`, `zh-CN`) in the header's language selector, as a user does.
    pub fn choose_language(&self, tag: &str) -> anyhow::Result<()> {
        self.script(
            "const select = document.querySelector('[data-testid=lang]');
             select.value = arguments[0];
             select.dispatchEvent(new Event('change', { bubbles: true }));",
            vec![serde_json::Value::from(tag)],
        )?;
        Ok(())
    }

    /// The text a user reads on the page (text nodes that are displayed), without code, commands, keys and hashes
    /// (`code`, `pre`, `kbd`, `.mono`) and without the language selector's own names.
    pub fn prose(&self) -> anyhow::Result<String> {
        let text = self.script(
            "const skip = 'code, pre, kbd, samp, .mono, select[data-testid=lang], script, style, svg text, textarea';
             const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
             const parts = [];
             for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                 const parent = node.parentElement;
                 if (parent && !parent.closest(skip) && parent.getClientRects().length > 0) parts.push(node.nodeValue);
             }
             return parts.join(' ');",
            Vec::new(),
        )?;
        Ok(text.as_str().unwrap_or_default().to_owned())
    }

    /// Runs the accessibility checker `axe` (its source, `axe.min.js` of the npm package `axe-core`) on the page
    /// and returns its violations of serious or critical impact, one line each (rule, impact, the elements).
    pub fn accessibility_violations(&self, axe: &str) -> anyhow::Result<Vec<String>> {
        let client = self.client()?;
        self.block(client.execute(axe, Vec::new()))?;
        let found = self.block(client.execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] })
                 .then(r => done(r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
                     nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ')) }))))
                 .catch(e => done([{ id: 'axe-failed', impact: 'critical', help: String(e), nodes: [] }]));",
            Vec::new(),
        ))?;
        Ok(found
            .as_array()
            .into_iter()
            .flatten()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .map(|v| format!("{} ({}): {} at {}", v["id"], v["impact"], v["help"], v["nodes"]))
            .collect())
    }

    /// Saves a screenshot and the page source next to the driver's log.
    fn save_failure(&self, what: &str) {
        let Ok(client) = self.client() else { return };
        let stem = self.driver.dir.join(format!("{}-{}", self.name, what));
        if let Ok(png) = self.driver.runtime.block_on(client.screenshot()) {
            std::fs::write(stem.with_extension("png"), png).ok();
        }
        if let Ok(html) = self.driver.runtime.block_on(client.source()) {
            std::fs::write(stem.with_extension("html"), html).ok();
        }
    }

    /// Runs `script` (a function body: `arguments` holds `args`, `return` answers) in the page; returns its answer.
    pub fn script(&self, script: &str, args: Vec<serde_json::Value>) -> anyhow::Result<serde_json::Value> {
        self.block(self.client()?.execute(script, args))
    }

    /// Resizes the browser window to `width` × `height` CSS pixels.
    pub fn set_window_size(&self, width: u32, height: u32) -> anyhow::Result<()> {
        self.block(self.client()?.set_window_size(width, height))
    }
}

impl Drop for Browser<'_> {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            self.driver.runtime.block_on(client.close()).ok();
        }
    }
}
