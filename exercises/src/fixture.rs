//! The handful of categories and pages Rango shows on its index.
//!
//! In the Django tutorial these are rows in the database, filled by a
//! population script. This chapter is about cookies, not databases, so here
//! they are a constant: the index only needs "the top five by likes" and
//! "the top five by views".

use std::cmp::Reverse;

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
