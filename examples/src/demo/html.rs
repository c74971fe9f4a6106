//! The pages, built with `format!`. Every piece of user-provided text goes through [`escape`].

use std::fmt::Write as _;

use super::users::ACCOUNTS;

/// Escapes `text` for use in HTML text and in quoted attribute values.
pub(super) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

/// The home page: the visit counter, who is signed in, and the flash notice if any.
pub(super) fn home(visits: u64, user: Option<&str>, notice: Option<&str>) -> String {
    let mut content = String::new();
    if let Some(notice) = notice {
        let _ = write!(
            content,
            r#"<p class="notice" role="status">{}</p>"#,
            escape(notice)
        );
    }
    match user {
        Some(user) => {
            let _ = write!(
                content,
                "<p>Current user: <strong>{}</strong></p>{}",
                escape(user),
                SIGN_OUT_FORM
            );
        }
        None => content.push_str(r#"<p>Nobody is signed in. <a href="/login">Sign in</a></p>"#),
    }
    let _ = write!(
        content,
        r#"<p id="visits">Visit number {visits} in this session.</p>"#
    );
    layout("Session demo", &content)
}

/// The sign-in form, with `username` filled in and `error` shown above it.
pub(super) fn login(username: &str, error: Option<&str>) -> String {
    let mut content = String::new();
    if let Some(error) = error {
        let _ = write!(
            content,
            r#"<p class="error" role="alert">{}</p>"#,
            escape(error)
        );
    }
    let _ = write!(
        content,
        r#"<form method="post" action="/login">
<p><label>Username <input name="username" value="{}" autocomplete="username" required></label></p>
<p><label>Password <input name="password" type="password" autocomplete="current-password" required></label></p>
<p><button type="submit">Sign in</button></p>
</form>
<p>Demo accounts:"#,
        escape(username)
    );
    for (i, (name, password)) in ACCOUNTS.iter().enumerate() {
        let separator = if i == 0 { " " } else { ", " };
        let _ = write!(
            content,
            "{separator}<code>{}</code> / <code>{}</code>",
            escape(name),
            escape(password)
        );
    }
    content.push_str(".</p>");
    layout("Sign in", &content)
}

/// The protected page, for a signed-in `user`.
pub(super) fn private(user: &str) -> String {
    let content = format!(
        "<p>Welcome, <strong>{}</strong>. Only signed-in users see this page.</p>{}",
        escape(user),
        SIGN_OUT_FORM
    );
    layout("Private page", &content)
}

/// The protected page, for a visitor who is not signed in.
pub(super) fn sign_in_required() -> String {
    layout(
        "Sign-in required",
        r#"<p>You must sign in to see this page. <a href="/login">Sign in</a></p>"#,
    )
}

/// Sign-out is a POST, so a link or an image on another page cannot sign the user out; the
/// session cookie's `SameSite=Lax` keeps other sites from posting this form with it.
const SIGN_OUT_FORM: &str =
    r#"<form method="post" action="/logout"><button type="submit">Sign out</button></form>"#;

/// Wraps `content` (already escaped HTML) in the shared page layout; `title` is plain text.
fn layout(title: &str, content: &str) -> String {
    let title = escape(title);
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }}
nav a {{ margin-right: 1rem; }}
.notice {{ background: #e6f4ea; padding: .5rem; }}
.error {{ background: #fce8e6; padding: .5rem; }}
</style>
</head>
<body>
<nav><a href="/">Home</a><a href="/login">Sign in</a><a href="/private">Private page</a></nav>
<h1>{title}</h1>
{content}
</body>
</html>
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralizes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x" title='y'>Tom & Jerry</a>"#),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;Tom &amp; Jerry&lt;/a&gt;"
        );
        assert_eq!(escape("plain text, ünïcode"), "plain text, ünïcode");
        assert_eq!(escape(""), "");
    }

    #[test]
    fn pages_escape_user_text() {
        let evil = r#""><script>alert(1)</script>"#;
        for page in [
            home(1, Some(evil), Some(evil)),
            login(evil, Some(evil)),
            private(evil),
        ] {
            assert!(!page.contains("<script"), "unescaped markup in {page}");
            assert!(page.contains("&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
        }
    }
}
