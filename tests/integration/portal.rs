use tributary_tests::TestApp;

#[tokio::test]
async fn the_portal_is_rendered_on_the_server_with_catalog_data() {
    let app = TestApp::spawn().await;
    app.seed_demo().await;
    let response = app.http.get(app.url("/")).send().await.expect("request");
    assert_eq!(response.status(), 200);
    let html = response.text().await.expect("body");
    // Readable without JavaScript: the data is in the HTML.
    for expected in [
        "<title>Catalog · Tributary</title>",
        "Retail orders",
        "demo.weather.observations",
        "Northwind Data",
    ] {
        assert!(
            html.contains(expected),
            "missing {expected:?} in the SSR page"
        );
    }
    // And the hydration bundle is referenced.
    assert!(
        html.contains("/pkg/tributary_web.js"),
        "hydration script missing"
    );
}

#[tokio::test]
async fn the_hydration_bundle_is_served() {
    let app = TestApp::spawn().await;
    let js = app
        .http
        .get(app.url("/pkg/tributary_web.js"))
        .send()
        .await
        .expect("request");
    assert_eq!(js.status(), 200);
    let wasm = app
        .http
        .get(app.url("/pkg/tributary_web_bg.wasm"))
        .send()
        .await
        .expect("request");
    assert_eq!(wasm.status(), 200);
    assert_eq!(wasm.headers()["content-type"], "application/wasm");
    let bytes = wasm.bytes().await.expect("body");
    assert_eq!(&bytes[..4], b"\0asm");
}

#[tokio::test]
async fn unknown_pages_are_404_with_a_way_back() {
    let app = TestApp::spawn().await;
    let response = app
        .http
        .get(app.url("/no/such/page"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 404);
    let html = response.text().await.expect("body");
    assert!(html.contains("Page not found"));
    assert!(html.contains("Back to the catalog"));
}

#[tokio::test]
async fn an_empty_catalog_says_what_happens_next() {
    let app = TestApp::spawn().await;
    let html = app
        .http
        .get(app.url("/"))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body");
    assert!(html.contains("No streams yet"), "empty state expected");
}

/// The server function URL a page's form posts to (`<form … action="/api/…">`).
async fn form_action(app: &TestApp, page: &str, form_id: &str) -> String {
    let html = app
        .http
        .get(app.url(page))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body");
    let form = html
        .split("<form")
        .find(|f| f.contains(&format!("id=\"{form_id}\"")))
        .unwrap_or_else(|| panic!("no form #{form_id} on {page}"));
    let start = form.find("action=\"").expect("action") + "action=\"".len();
    form[start..].split('"').next().expect("url").to_owned()
}

#[tokio::test]
async fn server_functions_refuse_cross_origin_requests() {
    let app = TestApp::spawn().await;
    let email = format!("{}@example.com", tributary_tests::unique("portal"));
    app.user(&email).await;
    let sign_in = form_action(&app, "/sign-in", "sign-in-form").await;
    assert!(sign_in.starts_with("/api/"), "{sign_in}");
    // URL-encoded as a browser's form post: `@` and spaces are the only special characters here.
    let form = format!(
        "email={}&password={}",
        email.replace('@', "%40"),
        tributary_tests::TEST_PASSWORD.replace(' ', "+")
    );
    let post = |headers: &'static [(&'static str, &'static str)]| {
        let mut request = app
            .http
            .post(app.url(&sign_in))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.clone());
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        request.send()
    };

    for headers in [
        &[("origin", "https://evil.example")][..],
        &[
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://evil.example"),
        ][..],
        &[("sec-fetch-site", "same-site")][..],
        &[("origin", "null")][..],
    ] {
        let refused = post(headers).await.expect("request");
        assert_eq!(refused.status(), 403, "{headers:?}");
        assert!(
            refused.headers().get("set-cookie").is_none(),
            "no session for a refused request"
        );
        let body: serde_json::Value = refused.json().await.expect("JSON body");
        assert_eq!(body["error"]["code"], "FORBIDDEN", "{body}");
    }

    for headers in [
        &[
            ("origin", "http://portal.test"),
            ("sec-fetch-site", "same-origin"),
        ][..],
        // Without fetch metadata, an Origin naming the host the request went to.
        &[("origin", "http://portal.test")][..],
    ] {
        let accepted = post(headers).await.expect("request");
        assert_ne!(accepted.status(), 403, "{headers:?}");
        let cookies: Vec<&str> = accepted
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        assert!(
            cookies.iter().any(|c| c.starts_with("trb_access=")),
            "same-origin sign-in works: {cookies:?}"
        );
    }
}
