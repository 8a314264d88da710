//! The handful of categories and pages Rango shows on its index.
//!
//! In the Django tutorial these are rows in the database, filled by a
//! population script, and the index view asks for "the top five by likes" and
//! "the top five by views". This chapter is about cookies, not databases, so
//! here they are a constant, and [`TopFive`] renders both lists.

use std::cmp::Reverse;

use askama::Template;

/// A category of links, with the number of likes it has collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Category {
    pub name: &'static str,
    pub likes: u32,
}

/// A page (a link) filed under a category, with its view count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub title: &'static str,
    pub url: &'static str,
    pub views: u32,
}

/// The categories, deliberately not in order of likes.
pub const CATEGORIES: &[Category] = &[
    Category {
        name: "Python",
        likes: 64,
    },
    Category {
        name: "Django",
        likes: 32,
    },
    Category {
        name: "Other Frameworks",
        likes: 16,
    },
    Category {
        name: "Rust",
        likes: 128,
    },
    Category {
        name: "Databases",
        likes: 8,
    },
    Category {
        name: "Web Security",
        likes: 48,
    },
    Category {
        name: "HTTP",
        likes: 4,
    },
];

/// The pages, deliberately not in order of views.
pub const PAGES: &[Page] = &[
    Page {
        title: "The Rust Book",
        url: "https://doc.rust-lang.org/book/",
        views: 90,
    },
    Page {
        title: "Official Python Tutorial",
        url: "https://docs.python.org/3/tutorial/",
        views: 45,
    },
    Page {
        title: "Django documentation",
        url: "https://docs.djangoproject.com/",
        views: 120,
    },
    Page {
        title: "axum on docs.rs",
        url: "https://docs.rs/axum/",
        views: 75,
    },
    Page {
        title: "MDN: HTTP cookies",
        url: "https://developer.mozilla.org/en-US/docs/Web/HTTP/Cookies",
        views: 150,
    },
    Page {
        title: "Flask",
        url: "https://flask.palletsprojects.com/",
        views: 12,
    },
    Page {
        title: "RFC 6265: HTTP State Management",
        url: "https://www.rfc-editor.org/rfc/rfc6265",
        views: 30,
    },
    Page {
        title: "OWASP Session Management Cheat Sheet",
        url: "https://cheatsheetseries.owasp.org/cheatsheets/Session_Management_Cheat_Sheet.html",
        views: 60,
    },
];

/// The `n` most liked categories, most liked first.
pub fn top_categories(n: usize) -> Vec<Category> {
    let mut categories = CATEGORIES.to_vec();
    categories.sort_by_key(|category| Reverse(category.likes));
    categories.truncate(n);
    categories
}

/// The `n` most viewed pages, most viewed first.
pub fn top_pages(n: usize) -> Vec<Page> {
    let mut pages = PAGES.to_vec();
    pages.sort_by_key(|page| Reverse(page.views));
    pages.truncate(n);
    pages
}

/// The two lists on Rango's index page: the five most liked categories and
/// the five most viewed pages, each in order.
///
/// A stage's index template shows them with `{{ top_five|safe }}`: the lists
/// are HTML already, escaped by this template.
#[derive(Debug, Clone, Template)]
#[template(path = "top_five.html")]
pub struct TopFive {
    pub categories: Vec<Category>,
    pub pages: Vec<Page>,
}

impl Default for TopFive {
    fn default() -> Self {
        Self {
            categories: top_categories(5),
            pages: top_pages(5),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_lists_the_top_five_in_order() {
        let html = TopFive::default().render().unwrap();
        assert_eq!(
            crate::testing::list_items(&html, "categories"),
            [
                "Rust (128 likes)",
                "Python (64 likes)",
                "Web Security (48 likes)",
                "Django (32 likes)",
                "Other Frameworks (16 likes)",
            ]
        );
        assert_eq!(
            crate::testing::list_items(&html, "pages"),
            [
                "MDN: HTTP cookies (150 views)",
                "Django documentation (120 views)",
                "The Rust Book (90 views)",
                "axum on docs.rs (75 views)",
                "OWASP Session Management Cheat Sheet (60 views)",
            ]
        );
    }
}
