/* passport_py passkeys: runs the WebAuthn ceremonies in the browser (no build step).
 *
 *   passportPasskeys.register(optionsUrl, verifyUrl, extra, settings)
 *   passportPasskeys.login(optionsUrl, verifyUrl, settings)
 *
 * Each GETs the options JSON from optionsUrl, calls navigator.credentials.create/get, and POSTs
 * the credential as JSON to verifyUrl (same-origin cookies; register adds `"extra": extra`).
 * The server's answer is followed: a JSON {"redirect": url} or a redirected response loads that
 * page. settings: {headers, onSuccess(answer), onError(error), conditional, mediation}; without
 * onError the returned promise rejects. `conditional: true` (login) offers passkeys in the
 * autofill of an <input autocomplete="username webauthn">, when the browser supports it.
 */
(function (global) {
  "use strict";

  var pending = null; // the AbortController of a waiting request (conditional UI)

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var text = "";
    for (var i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function fromBase64url(value) {
    var text = atob(value.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((value.length + 3) % 4));
    var bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return bytes.buffer;
  }

  function withIds(list) {
    return (list || []).map(function (c) {
      return Object.assign({}, c, { id: fromBase64url(c.id) });
    });
  }

  function creationOptions(json) {
    var PKC = global.PublicKeyCredential;
    if (PKC && typeof PKC.parseCreationOptionsFromJSON === "function") {
      return PKC.parseCreationOptionsFromJSON(json);
    }
    return Object.assign({}, json, {
      challenge: fromBase64url(json.challenge),
      user: Object.assign({}, json.user, { id: fromBase64url(json.user.id) }),
      excludeCredentials: withIds(json.excludeCredentials),
    });
  }

  function requestOptions(json) {
    var PKC = global.PublicKeyCredential;
    if (PKC && typeof PKC.parseRequestOptionsFromJSON === "function") {
      return PKC.parseRequestOptionsFromJSON(json);
    }
    return Object.assign({}, json, {
      challenge: fromBase64url(json.challenge),
      allowCredentials: withIds(json.allowCredentials),
    });
  }

  function credentialJSON(credential) {
    if (typeof credential.toJSON === "function") return credential.toJSON();
    var r = credential.response;
    var response = { clientDataJSON: toBase64url(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toBase64url(r.attestationObject);
      if (typeof r.getTransports === "function") response.transports = r.getTransports();
    } else {
      response.authenticatorData = toBase64url(r.authenticatorData);
      response.signature = toBase64url(r.signature);
      if (r.userHandle) response.userHandle = toBase64url(r.userHandle);
    }
    return {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      response: response,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults(),
    };
  }

  function csrfHeaders(extra) {
    var headers = { Accept: "application/json" };
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/); // Django's CSRF cookie
    if (match) headers["X-CSRFToken"] = decodeURIComponent(match[1]);
    return Object.assign(headers, extra || {});
  }

  async function answerOf(response) {
    var text = await response.text();
    var data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (ignored) {
      data = null;
    }
    if (!response.ok) {
      var message = (data && (data.message || data.error)) || text || response.statusText;
      var error = new Error(String(message));
      error.status = response.status;
      error.answer = data;
      throw error;
    }
    return data;
  }

  async function getJSON(url, settings) {
    var response = await fetch(url, {
      credentials: "same-origin",
      cache: "no-store",
      headers: csrfHeaders(settings.headers),
    });
    var options = await answerOf(response);
    return options && options.publicKey ? options.publicKey : options;
  }

  async function post(url, body, settings) {
    var headers = csrfHeaders(settings.headers);
    headers["Content-Type"] = "application/json";
    var response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: headers,
      body: JSON.stringify(body),
    });
    if (response.redirected && response.ok) {
      global.location.assign(response.url);
      return { redirect: response.url };
    }
    var answer = await answerOf(response);
    if (settings.onSuccess) settings.onSuccess(answer);
    if (answer && typeof answer.redirect === "string") global.location.assign(answer.redirect);
    return answer;
  }

  function settle(promise, settings) {
    return promise.catch(function (error) {
      if (error && error.name === "AbortError") return null; // replaced by a newer request
      if (settings.onError) {
        settings.onError(error);
        return null;
      }
      throw error;
    });
  }

  function takeOver() {
    if (pending) pending.abort();
    pending = typeof AbortController === "function" ? new AbortController() : null;
    return pending;
  }

  function register(optionsUrl, verifyUrl, extra, settings) {
    settings = settings || {};
    return settle(
      (async function () {
        var json = await getJSON(optionsUrl, settings);
        var controller = takeOver();
        var credential = await navigator.credentials.create({
          publicKey: creationOptions(json),
          signal: controller ? controller.signal : undefined,
        });
        var body = credentialJSON(credential);
        if (extra) body.extra = extra;
        return post(verifyUrl, body, settings);
      })(),
      settings
    );
  }

  function login(optionsUrl, verifyUrl, settings) {
    settings = settings || {};
    return settle(
      (async function () {
        var mediation = settings.mediation;
        if (settings.conditional) {
          var PKC = global.PublicKeyCredential;
          var available =
            PKC && typeof PKC.isConditionalMediationAvailable === "function"
              ? await PKC.isConditionalMediationAvailable()
              : false;
          if (!available) return null;
          mediation = "conditional";
        }
        var json = await getJSON(optionsUrl, settings);
        var controller = takeOver();
        var request = { publicKey: requestOptions(json) };
        if (mediation) request.mediation = mediation;
        if (controller) request.signal = controller.signal;
        var credential = await navigator.credentials.get(request);
        return post(verifyUrl, credentialJSON(credential), settings);
      })(),
      settings
    );
  }

  global.passportPasskeys = {
    register: register,
    login: login,
    toBase64url: toBase64url,
    fromBase64url: fromBase64url,
  };
})(window);
