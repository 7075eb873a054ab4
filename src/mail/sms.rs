//! Text messages through a signed webhook to an SMS gateway adapter.
//!
//! Chinese SMS gateways send pre-approved templates filled with ordered
//! parameters, so we send a template id and the parameters, never free text.
//! The adapter is expected on a local or private `http://` address.

use super::{OutgoingMessage, SendError, Transport};
use bytes::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// Header carrying `sha256=<hex HMAC-SHA256 of the body>`.
pub const SIGNATURE_HEADER: &str = "x-zzh-signature";
/// Header carrying the Unix time of the call, in seconds.
pub const TIMESTAMP_HEADER: &str = "x-zzh-timestamp";

/// The JSON body of one webhook call.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SmsBody {
    /// The outbox Message-ID, the same on every attempt (for deduplication).
    pub message_id: String,
    /// Mobile number, 11 digits.
    pub phone: String,
    /// Gateway template, e.g. `ZZH_DONE`.
    pub template_id: String,
    /// The template's ordered parameters.
    pub params: Vec<String>,
}

/// `sha256=<hex>` of `body` under `secret`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The gateway template of a message kind: `done` → `ZZH_DONE`.
pub fn template_id(kind: &str) -> String {
    format!("ZZH_{}", kind.to_ascii_uppercase())
}

/// The SMS webhook channel.
#[derive(Clone)]
pub struct SmsTransport {
    url: hyper::Uri,
    secret: Vec<u8>,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl SmsTransport {
    /// A transport posting to `url` (plain http), signing with `secret`.
    pub fn new(url: &str, secret: &str) -> Result<Self, super::ConfigError> {
        let url: hyper::Uri = url
            .parse()
            .map_err(|e: hyper::http::uri::InvalidUri| super::ConfigError::Sms(e.to_string()))?;
        if url.scheme_str() != Some("http") {
            return Err(super::ConfigError::Sms("only http:// is supported".into()));
        }
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(Duration::from_secs(10)));
        Ok(SmsTransport {
            url,
            secret: secret.as_bytes().to_vec(),
            client: Client::builder(TokioExecutor::new()).build(connector),
        })
    }
}

impl Transport for SmsTransport {
    async fn send(&self, msg: &OutgoingMessage) -> Result<(), SendError> {
        let phone = msg.to.clone().unwrap_or_default();
        if !crate::db::outbox::is_mobile(&phone) {
            return Err(SendError::Permanent("not a mobile number".into()));
        }
        let body = serde_json::to_vec(&SmsBody {
            message_id: msg.message_id.clone(),
            phone,
            template_id: template_id(&msg.kind),
            params: msg.params.clone(),
        })
        .map_err(|e| SendError::Permanent(e.to_string()))?;
        let req = hyper::Request::post(self.url.clone())
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature(&self.secret, &body))
            .header(TIMESTAMP_HEADER, chrono::Utc::now().timestamp().to_string())
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| SendError::Permanent(e.to_string()))?;
        let call = async {
            let res = self.client.request(req).await?;
            let status = res.status();
            // Read the (short) answer so the connection can be reused.
            let _ = res.into_body().collect().await;
            Ok::<_, hyper_util::client::legacy::Error>(status)
        };
        let status = match tokio::time::timeout(Duration::from_secs(20), call).await {
            Err(_) => return Err(SendError::Transient("SMS webhook timed out".into())),
            Ok(Err(e)) => return Err(SendError::Transient(format!("SMS webhook: {e}"))),
            Ok(Ok(s)) => s,
        };
        let code = status.as_u16();
        match code {
            200..=299 => Ok(()),
            408 | 429 => Err(SendError::Transient(format!("SMS webhook answered {code}"))),
            400..=499 => Err(SendError::Permanent(format!("SMS webhook answered {code}"))),
            _ => Err(SendError::Transient(format!("SMS webhook answered {code}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_the_body() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn template_ids_follow_the_message_kind() {
        assert_eq!(template_id("done"), "ZZH_DONE");
        assert_eq!(template_id("deferred"), "ZZH_DEFERRED");
        assert_eq!(template_id("receipt"), "ZZH_RECEIPT");
    }
}
