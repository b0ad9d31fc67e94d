// A local OpenID Connect provider for sign-in tests (panva/oidc-provider, MIT).
// Any login name signs in (its development login form); the account's email is <login>@terrain.test.
// Usage: node oidc-provider.mjs <port> <client_id> <client_secret> <app_origin>
import Provider from "oidc-provider";

const [port, clientId, clientSecret, appOrigin] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [`${appOrigin}/oauth2callback`],
      post_logout_redirect_uris: [appOrigin, `${appOrigin}/`, `${appOrigin}/oauth2callback`],
      grant_types: ["authorization_code"],
      response_types: ["code"],
    },
  ],
  claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: `${id}@terrain.test`, email_verified: true, name: id };
      },
    };
  },
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  cookies: { keys: [clientSecret] },
  conformIdTokenClaims: false, // email and name in the ID token itself (what st.user reads)
});
provider.listen(Number(port), "127.0.0.1", () => {
  console.log(`oidc provider ready at ${issuer}`);
});
