//! EXERCISE 1, the reference answer: where do the cookies live?
//!
//! Try the exercise in `src/only_sessionid.rs` before reading on. This file
//! is compiled in its place only with `--features solution`.

use std::sync::Arc;

use reqwest::cookie::{CookieStore, Jar};

// ANCHOR: only_sessionid
/// Browses the Rango site at `base` (`http://localhost:PORT`) with a browser
/// that keeps cookies, and fails, saying which cookies it found, unless the
/// browser ends up holding `sessionid` and nothing else.
pub async fn only_sessionid_reaches_the_browser(base: &str) -> Result<(), String> {
    let jar = Arc::new(Jar::default());
    let browser = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .build()
        .map_err(|err| err.to_string())?;
    // Every page, and the home page once more after the others: a cookie
    // may be set by any of them.
    for path in ["/rango/", "/rango/about/", "/rango/cookies/", "/rango/"] {
        let response = browser
            .get(format!("{base}{path}"))
            .send()
            .await
            .map_err(|err| format!("GET {path}: {err}"))?;
        if !response.status().is_success() {
            return Err(format!("GET {path} answered {}", response.status()));
        }
    }

    // What the browser would send back: `name=value; name=value`.
    let url = base.parse().map_err(|err| format!("{base}: {err}"))?;
    let held = jar
        .cookies(&url)
        .and_then(|header| header.to_str().ok().map(str::to_owned))
        .unwrap_or_default();
    let mut names: Vec<&str> = held
        .split("; ")
        .filter(|pair| !pair.is_empty())
        .map(|pair| pair.split('=').next().unwrap_or(pair))
        .collect();
    // Sorted, so that the message is the same on every run.
    names.sort_unstable();
    if names == ["sessionid"] {
        Ok(())
    } else {
        Err(format!(
            "the browser holds {names:?}; it should hold sessionid alone"
        ))
    }
}
// ANCHOR_END: only_sessionid
