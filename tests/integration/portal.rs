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
