// A real OpenID Connect provider (oidc-provider, OpenID-certified) for the integration and
// browser tests. See README.md in this directory.
//
//   PORT=0 node tests/oidc-provider/server.mjs config.json
//
// Prints one line to stdout once listening, {"issuer":"http://127.0.0.1:<port>"}, and nothing
// else there; logs go to stderr. Exits on SIGTERM and SIGINT.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';

import { Provider, errors } from 'oidc-provider';

function log(...args) {
  console.error('[oidc-provider]', ...args);
}

const configPath = process.argv[2];
if (!configPath) {
  log('usage: PORT=0 node server.mjs config.json');
  process.exit(2);
}
const config = JSON.parse(fs.readFileSync(configPath, 'utf8'));
const accounts = config.accounts ?? [];
const clients = (config.clients ?? []).map((client) => ({
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
  id_token_signed_response_alg: 'RS256',
  // auth_time in every ID token, not only when max_age is asked for.
  require_auth_time: true,
  // The logout token names the session (sid) only when this is true.
  ...(client.backchannel_logout_uri ? { backchannel_logout_session_required: true } : {}),
  ...client,
}));

// Claims by scope. Every claim an account has goes into the ID token: email and profile claims
// under their scopes, anything else (pid, ...) under openid.
const EMAIL_CLAIMS = ['email', 'email_verified'];
const PROFILE_CLAIMS = [
  'name', 'family_name', 'given_name', 'middle_name', 'nickname', 'preferred_username',
  'profile', 'picture', 'website', 'gender', 'birthdate', 'zoneinfo', 'locale', 'updated_at',
];
const PROTOCOL_CLAIMS = ['sub', 'sid', 'auth_time', 'acr', 'amr', 'iss'];
const customClaims = new Set();
for (const account of accounts) {
  for (const claim of Object.keys(account.claims ?? {})) {
    if (![...EMAIL_CLAIMS, ...PROFILE_CLAIMS, ...PROTOCOL_CLAIMS].includes(claim)) {
      customClaims.add(claim);
    }
  }
}
customClaims.add('pid');

function accountBySub(sub) {
  return accounts.find((account) => account.claims?.sub === sub);
}

function accountByLogin(login) {
  return accounts.find((account) => account.login === login);
}

function escapeHtml(value) {
  return String(value)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const STYLE = 'body{font-family:sans-serif;max-width:24rem;margin:2rem auto;padding:0 1rem}'
  + 'label,input,button{display:block;margin:.4rem 0}input{width:100%;box-sizing:border-box}'
  + '.error{color:#a00}';

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="nb">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
${body}
</main>
</body>
</html>`;
}

function loginPage(uid, { login = '', error } = {}) {
  return page('Test-ID: logg inn', `${error ? `<p class="error" id="login-error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login" autocomplete="off">
<label for="login">Brukernavn</label>
<input id="login" name="login" type="text" value="${escapeHtml(login)}" required autofocus>
<label for="password">Passord</label>
<input id="password" name="password" type="password">
<button type="submit" id="sign-in">Logg inn</button>
</form>`);
}

// A fresh signing key and cookie key on every start.
const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = {
  ...privateKey.export({ format: 'jwk' }),
  kid: crypto.randomUUID(),
  alg: 'RS256',
  use: 'sig',
};

const port = Number(process.env.PORT ?? 0);
const server = http.createServer();

server.listen(port, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;

  const provider = new Provider(issuer, {
    clients,
    jwks: { keys: [signingKey] },
    cookies: {
      keys: [crypto.randomBytes(32).toString('base64url')],
      // Browsers keep cookies by host, not by port: names of the provider's own, apart from
      // those of the relying party under test on the same 127.0.0.1.
      names: { session: 'op_session', interaction: 'op_interaction', resume: 'op_interaction_resume' },
      long: { httpOnly: true, sameSite: 'lax' },
      short: { httpOnly: true, sameSite: 'lax' },
    },
    responseTypes: ['code'],
    scopes: ['openid', 'email', 'profile'],
    claims: {
      openid: ['sub', ...customClaims],
      email: EMAIL_CLAIMS,
      profile: PROFILE_CLAIMS,
      acr: null,
      sid: null,
      auth_time: null,
      iss: null,
    },
    // All of the account's claims go into the ID token, not only into userinfo.
    conformIdTokenClaims: false,
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    pkce: { required: () => true },
    enabledJWA: { idTokenSigningAlgValues: ['RS256'] },
    features: {
      devInteractions: { enabled: false },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          // form is <form id="op.logoutForm" ...><input type="hidden" name="xsrf" ...></form>.
          const button = '<button type="submit" id="sign-out" name="logout" value="yes">Logg ut</button>';
          ctx.type = 'html';
          ctx.body = page('Test-ID: logg ut', `<p>Vil du logge ut?</p>\n${form.replace('</form>', `${button}</form>`)}`);
        },
        async postLogoutSuccessSource(ctx) {
          ctx.type = 'html';
          ctx.body = page('Test-ID: logget ut', '<p id="signed-out">Du er logget ut.</p>');
        },
      },
      userinfo: { enabled: true },
      introspection: { enabled: false },
      revocation: { enabled: false },
    },
    async findAccount(ctx, sub) {
      const account = accountBySub(sub);
      if (!account) return undefined;
      return {
        accountId: sub,
        async claims() {
          return { ...account.claims, sub };
        },
      };
    },
    async renderError(ctx, out, error) {
      log('error page:', out);
      ctx.type = 'html';
      ctx.body = page('Test-ID: feil', Object.entries(out)
        .map(([key, value]) => `<p><strong>${escapeHtml(key)}</strong>: <span class="oidc-${escapeHtml(key)}">${escapeHtml(value)}</span></p>`)
        .join('\n'));
    },
    clientBasedCORS: () => false,
    // The relying parties under test listen on 127.0.0.1, which the default fetch refuses
    // (SSRF protection against special-use addresses). Only this test provider does this.
    fetch: (url, { dispatcher, ...options }) => globalThis.fetch(url, options),
    ttl: {
      AccessToken: 60 * 60,
      AuthorizationCode: 60,
      IdToken: 60 * 60,
      Interaction: 60 * 60,
      Session: 24 * 60 * 60,
      Grant: 24 * 60 * 60,
      RefreshToken: 24 * 60 * 60,
    },
  });

  // sid in every ID token, so that a back-channel logout token can name the session; by
  // default oidc-provider adds it only for clients with backchannel_logout_session_required.
  provider.Client.prototype.includeSid = () => true;

  // Consent is not asked for: the grant covers whatever the authorization request asks for.
  async function grantFor(details) {
    const { prompt, params, session } = details;
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) {
      grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
    }
    if (prompt.details.missingOIDCClaims) {
      grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    }
    if (prompt.details.missingResourceScopes) {
      for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes)) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
    }
    const grantId = await grant.save();
    return details.grantId ? {} : { grantId };
  }

  async function readForm(req) {
    const chunks = [];
    let size = 0;
    for await (const chunk of req) {
      size += chunk.length;
      if (size > 64 * 1024) throw new errors.InvalidRequest('request body too large');
      chunks.push(chunk);
    }
    return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
  }

  async function finish(ctx, result, mergeWithLastSubmission) {
    const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission });
    ctx.status = 303;
    ctx.redirect(returnTo);
  }

  provider.use(async (ctx, next) => {
    if (ctx.path === '/__test/health' && ctx.method === 'GET') {
      ctx.type = 'text/plain';
      ctx.body = 'ok';
      return;
    }

    const match = /^\/interaction\/([^/]+)(\/login)?$/.exec(ctx.path);
    if (!match) {
      await next();
      return;
    }
    const [, uid, login] = match;
    ctx.set('cache-control', 'no-store');

    let details;
    try {
      details = await provider.interactionDetails(ctx.req, ctx.res);
    } catch (error) {
      log('interaction not found:', error.message);
      ctx.status = 400;
      ctx.type = 'html';
      ctx.body = page('Test-ID: feil', '<p class="error">Innloggingen er utløpt eller ukjent. Start på nytt.</p>');
      return;
    }
    if (details.uid !== uid) {
      ctx.status = 400;
      ctx.type = 'html';
      ctx.body = page('Test-ID: feil', '<p class="error">Innloggingen hører ikke til denne nettleseren.</p>');
      return;
    }

    if (!login && ctx.method === 'GET') {
      if (details.prompt.name === 'login') {
        ctx.type = 'html';
        ctx.body = loginPage(uid);
        return;
      }
      if (details.prompt.name === 'consent') {
        await finish(ctx, { consent: await grantFor(details) }, true);
        return;
      }
      ctx.status = 400;
      ctx.body = `unsupported prompt ${details.prompt.name}`;
      return;
    }

    if (login && ctx.method === 'POST') {
      if (details.prompt.name !== 'login') {
        ctx.status = 400;
        ctx.body = 'no login pending';
        return;
      }
      const form = await readForm(ctx.req);
      const name = (form.get('login') ?? '').trim();
      const account = accountByLogin(name);
      if (!account) {
        ctx.type = 'html';
        ctx.body = loginPage(uid, { login: name, error: 'Ukjent brukernavn.' });
        return;
      }
      await finish(ctx, { login: { accountId: account.claims.sub } }, false);
      return;
    }

    ctx.status = 405;
    ctx.body = 'method not allowed';
  });

  provider.on('server_error', (ctx, error) => log('server_error', error));
  provider.on('backchannel.error', (ctx, error, client, accountId, sid) => {
    log('backchannel logout to', client.clientId, 'failed:', error.message);
  });
  provider.on('backchannel.success', (ctx, client, accountId, sid) => {
    log('backchannel logout sent to', client.clientId, 'sid', sid);
  });

  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
  log('listening,', clients.length, 'client(s),', accounts.length, 'account(s)');
});

server.on('error', (error) => {
  log('server error:', error.message);
  process.exit(1);
});

function shutdown(signal) {
  log('received', signal, 'shutting down');
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

// A test run that dies without stopping the provider leaves it orphaned: exit once the parent
// process is gone (re-parented to init or a subreaper).
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) shutdown('parent exit');
}, 1000).unref();
