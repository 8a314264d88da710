//! The built book in Chromium, offline: every diagram is drawn on its page,
//! with all its labels, in each edition that was built.
//!
//! It reads `book/build/` (and `book/build/ru/`), so build the book first:
//! `.ci/run` does, and `mdbook build book` makes the English edition.

use std::path::{Path, PathBuf};

use browser_suite::{Chrome, Result, screenshot_dir};

/// Each page that carries diagrams, and their files in `book/src/diagrams/LANG/`.
const PAGES: &[(&str, &[&str])] = &[
    ("stage1-test-cookie", &["stage1"]),
    ("stage2-client-cookies", &["stage2"]),
    ("stage3-server-sessions", &["stage3"]),
    ("stage4-expiry", &["stage4", "stage4-timeline"]),
    ("performance", &["performance"]),
];

fn book() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../book")
}

/// The title and the labels of a diagram, read from its SVG file.
fn expected(lang: &str, name: &str) -> (String, Vec<String>) {
    let path = book().join(format!("src/diagrams/{lang}/{name}.svg"));
    let svg =
        std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    let between = |text: &str, open: &str, close: &str| -> Vec<String> {
        text.split(open)
            .skip(1)
            .filter_map(|rest| {
                let rest = &rest[rest.find('>')? + 1..];
                Some(unescape(&rest[..rest.find(close)?]))
            })
            .collect()
    };
    let title = between(&svg, "<title", "</title>").remove(0);
    (title, between(&svg, "<text", "</text>"))
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

/// Opens every page of one edition and checks its diagrams.
async fn check_edition(chrome: &Chrome, dir: &str, lang: &str) -> Result<()> {
    for (page, diagrams) in PAGES {
        let file = book().join(format!("build/{dir}{page}.html"));
        assert!(
            file.is_file(),
            "{} is missing: build the book first",
            file.display()
        );
        chrome
            .goto(&format!(
                "file://{}",
                file.canonicalize().unwrap().display()
            ))
            .await?;
        // Every diagram on the page: its title, its labels, and the size the
        // browser drew it at.
        let drawn = chrome
            .script(
                "return [...document.querySelectorAll('svg.rango-diagram')].map(svg => [
                    svg.querySelector('title').textContent,
                    [...svg.querySelectorAll('text')].map(text => text.textContent),
                    svg.getBoundingClientRect().width,
                    svg.getBoundingClientRect().height,
                ])",
            )
            .await?;
        let drawn: Vec<(String, Vec<String>, f64, f64)> = serde_json::from_value(drawn).unwrap();
        for name in *diagrams {
            let (title, labels) = expected(lang, name);
            let found = drawn
                .iter()
                .find(|(shown, ..)| *shown == title)
                .unwrap_or_else(|| panic!("{dir}{page}: no diagram {title:?} among {drawn:?}"));
            assert_eq!(found.1, labels, "{dir}{page}: the labels of {name}");
            assert!(
                found.2 > 300.0 && found.3 > 100.0,
                "{dir}{page}: {name} drawn {}×{}",
                found.2,
                found.3
            );
        }
        chrome
            .screenshot(&screenshot_dir().join(format!("book-{lang}-{page}.png")))
            .await?;
    }
    Ok(())
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver, and the built book: cargo test -p browser-suite -- --ignored"]
async fn every_diagram_is_drawn_with_its_labels() -> Result<()> {
    let chrome = Chrome::launch().await?;
    check_edition(&chrome, "", "en").await?;
    if book().join("build/ru").is_dir() {
        check_edition(&chrome, "ru/", "ru").await?;
    }
    chrome.quit().await
}
