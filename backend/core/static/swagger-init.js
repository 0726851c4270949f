// Swagger UI for FARM Auth, served from this app (no CDN). Requests authenticated by the
// FARM_auth cookie (after "Try it out" on /auth/jwt/login) need the CSRF header; the
// interceptor copies it from the FARM_csrf cookie. "Authorize" uses a Bearer token instead.
function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)FARM_csrf=([^;]*)/);
  return match ? decodeURIComponent(match[1]) : null;
}

window.ui = SwaggerUIBundle({
  url: "openapi.json",
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  validatorUrl: null,
  oauth2RedirectUrl: new URL("docs/oauth2-redirect", window.location.href).href,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  requestInterceptor: (request) => {
    const token = csrfToken();
    if (token) request.headers["X-CSRF-Token"] = token;
    return request;
  },
});
