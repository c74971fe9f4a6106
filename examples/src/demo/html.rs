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
pub(super) fn home(visits: u64, user: Option<&str>, notice: Option<&str>, token: &str) -> String {
    let mut content = notice_html(notice);
    match user {
        Some(user) => {
            let _ = write!(
                content,
                "<p>Current user: <strong id=\"user\">{}</strong></p>{}",
                escape(user),
                sign_out_form(token)
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

/// The sign-in form, with `username` filled in, a flash `notice` and an `error` above it.
pub(super) fn login(
    username: &str,
    notice: Option<&str>,
    error: Option<&str>,
    token: &str,
) -> String {
    let mut content = notice_html(notice);
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
<input type="hidden" name="csrf" value="{}">
<p><label>Username <input name="username" value="{}" autocomplete="username" required></label></p>
<p><label>Password <input name="password" type="password" autocomplete="current-password" required></label></p>
<p><label><input type="checkbox" name="remember" id="remember"> Remember me for 30 days</label></p>
<p><button type="submit">Sign in</button></p>
</form>
<p>Demo accounts:"#,
        escape(token),
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

/// The re-authentication form: `user` enters the password again, then goes on to `next`.
pub(super) fn reauth(user: &str, next: &str, error: Option<&str>, token: &str) -> String {
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
        r#"<p>This page needs a recent sign-in. Enter the password of <strong>{}</strong> again.</p>
<form method="post" action="/reauth">
<input type="hidden" name="csrf" value="{}"><input type="hidden" name="next" value="{}">
<p><label>Password <input name="password" type="password" autocomplete="current-password" required></label></p>
<p><button type="submit" id="reauth">Continue</button></p>
</form>"#,
        escape(user),
        escape(token),
        escape(next)
    );
    layout("Confirm it is you", &content)
}

/// The change-password form.
pub(super) fn password(token: &str) -> String {
    let content = format!(
        r#"<p>Changing the password signs out every other session of your account.</p>
<form method="post" action="/account/password">
<input type="hidden" name="csrf" value="{}">
<p><label>New password <input name="password" type="password" autocomplete="new-password" required></label></p>
<p><button type="submit" id="change-password">Change password</button></p>
</form>"#,
        escape(token)
    );
    layout("Change password", &content)
}

/// The protected page, for a signed-in `user`.
pub(super) fn private(user: &str, token: &str) -> String {
    let content = format!(
        "<p>Welcome, <strong id=\"user\">{}</strong>. Only signed-in users see this page.</p>{}",
        escape(user),
        sign_out_form(token)
    );
    layout("Private page", &content)
}

/// The cart: each catalog item with its quantity and an add button.
pub(super) fn cart(lines: &[(&str, u32)], token: &str) -> String {
    let mut content = String::from("<ul>");
    for (item, quantity) in lines {
        let item = escape(item);
        let _ = write!(
            content,
            r#"<li><span id="qty-{item}">{quantity}</span> × {item}
<form method="post" action="/cart/add" style="display:inline">
<input type="hidden" name="csrf" value="{}"><input type="hidden" name="item" value="{item}">
<button type="submit" id="add-{item}">Add {item}</button></form></li>"#,
            escape(token)
        );
    }
    content.push_str("</ul>");
    layout("Cart", &content)
}

/// One row of the "Your sessions" page.
pub(super) struct SessionRow {
    pub(super) current: bool,
    pub(super) device: String,
    pub(super) ip: String,
    pub(super) created_secs_ago: u64,
    pub(super) seen_secs_ago: u64,
}

/// The signed-in user's sessions, with "sign out everywhere else".
pub(super) fn sessions(rows: &[SessionRow], notice: Option<&str>, token: &str) -> String {
    let mut content = notice_html(notice);
    let _ = write!(
        content,
        r#"<p id="session-count">{} active session(s)</p><ul>"#,
        rows.len()
    );
    for row in rows {
        let _ = write!(
            content,
            r#"<li class="session{}">{}{} — signed in {}s ago, last seen {}s ago</li>"#,
            if row.current { " current" } else { "" },
            escape(&row.device),
            if row.ip.is_empty() {
                String::new()
            } else {
                format!(" ({})", escape(&row.ip))
            },
            row.created_secs_ago,
            row.seen_secs_ago
        );
    }
    let _ = write!(
        content,
        r#"</ul><form method="post" action="/sessions/revoke-others"><input type="hidden" name="csrf" value="{}"><button type="submit" id="revoke-others">Sign out everywhere else</button></form>"#,
        escape(token)
    );
    layout("Your sessions", &content)
}

/// The sessions page on a store that cannot list sessions.
pub(super) fn sessions_unsupported() -> String {
    message(
        "Your sessions",
        "This session store keeps sessions in the browser's cookie, so it cannot list or revoke them.",
    )
}

/// A page with a heading and one sentence.
pub(super) fn message(title: &str, text: &str) -> String {
    layout(title, &format!("<p>{}</p>", escape(text)))
}

fn notice_html(notice: Option<&str>) -> String {
    notice
        .map(|n| format!(r#"<p class="notice" role="status">{}</p>"#, escape(n)))
        .unwrap_or_default()
}

/// Sign-out is a POST with the CSRF token, so a link, an image or another site's form cannot
/// sign the user out.
fn sign_out_form(token: &str) -> String {
    format!(
        r#"<form method="post" action="/logout"><input type="hidden" name="csrf" value="{}"><button type="submit" id="sign-out">Sign out</button></form>"#,
        escape(token)
    )
}

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
<nav><a href="/">Home</a><a href="/login">Sign in</a><a href="/private">Private page</a><a href="/cart">Cart</a><a href="/sessions">Your sessions</a><a href="/account/password">Change password</a><a href="/api/session">Session (JSON)</a></nav>
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
            home(1, Some(evil), Some(evil), evil),
            login(evil, Some(evil), Some(evil), evil),
            reauth(evil, evil, Some(evil), evil),
            password(evil),
            private(evil, evil),
            cart(&[(evil, 1)], evil),
            message(evil, evil),
        ] {
            assert!(!page.contains("<script"), "unescaped markup in {page}");
            assert!(page.contains("&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
        }
    }
}
