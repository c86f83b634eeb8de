"""Just enough cryptography for the token service, in pure Python.

- base64url without padding (JWS compact serialisation);
- a DER reader that finds the RSA public key in an X.509 certificate, a SubjectPublicKeyInfo
  ("PUBLIC KEY") or a PKCS#1 "RSA PUBLIC KEY";
- RSASSA-PKCS1-v1_5 (RS256) and RSASSA-PSS (PS256, MGF1-SHA256) signature verification by
  modular exponentiation (RFC 8017 sections 8.1.2 and 9.1.2), which is all verification needs;
- HS256 for the access tokens the emulator issues (clients never verify those; only the
  emulator does, so a shared secret is enough and no private key is needed).

Only verification is implemented: the emulator never signs with RSA.
"""
import base64
import hashlib
import hmac
import json
import re


class CryptoError(Exception):
    pass


def b64url_encode(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text):
    if isinstance(text, str):
        text = text.encode("ascii", "strict")
    if re.search(rb"[^A-Za-z0-9_\-]", text):
        raise CryptoError("not base64url")
    return base64.urlsafe_b64decode(text + b"=" * (-len(text) % 4))


# ---- DER ----

def _der_item(data, pos):
    """(tag, content_start, content_end) of the TLV at pos."""
    if pos + 2 > len(data):
        raise CryptoError("DER: truncated")
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        nbytes = length & 0x7F
        if nbytes == 0 or nbytes > 4 or pos + nbytes > len(data):
            raise CryptoError("DER: bad length")
        length = int.from_bytes(data[pos:pos + nbytes], "big")
        pos += nbytes
    if pos + length > len(data):
        raise CryptoError("DER: content past the end")
    return tag, pos, pos + length


def _der_children(data, start, end):
    out = []
    pos = start
    while pos < end:
        tag, cs, ce = _der_item(data, pos)
        out.append((tag, cs, ce))
        pos = ce
    return out


_RSA_OID = bytes.fromhex("2a864886f70d010101")  # 1.2.840.113549.1.1.1


def _rsa_from_pkcs1(data, start, end):
    tag, cs, ce = _der_item(data, start)
    if tag != 0x30:
        raise CryptoError("RSAPublicKey: not a SEQUENCE")
    kids = _der_children(data, cs, ce)
    if len(kids) < 2 or kids[0][0] != 0x02 or kids[1][0] != 0x02:
        raise CryptoError("RSAPublicKey: expected two INTEGERs")
    n = int.from_bytes(data[kids[0][1]:kids[0][2]], "big")
    e = int.from_bytes(data[kids[1][1]:kids[1][2]], "big")
    return n, e


def _rsa_from_spki(data, start, end):
    kids = _der_children(data, start, end)
    if len(kids) != 2 or kids[0][0] != 0x30 or kids[1][0] != 0x03:
        raise CryptoError("SubjectPublicKeyInfo: unexpected shape")
    alg = _der_children(data, kids[0][1], kids[0][2])
    if not alg or alg[0][0] != 0x06 or data[alg[0][1]:alg[0][2]] != _RSA_OID:
        raise CryptoError("public key is not RSA (only RSA keys are supported)")
    bs, be = kids[1][1], kids[1][2]
    if data[bs] != 0:
        raise CryptoError("BIT STRING with unused bits")
    return _rsa_from_pkcs1(data, bs + 1, be)


def _spki_of_certificate(der):
    tag, cs, ce = _der_item(der, 0)
    if tag != 0x30:
        raise CryptoError("certificate: not a SEQUENCE")
    tbs_tag, ts, te = _der_item(der, cs)
    if tbs_tag != 0x30:
        raise CryptoError("certificate: no tbsCertificate")
    fields = _der_children(der, ts, te)
    i = 1 if fields and fields[0][0] == 0xA0 else 0  # [0] version
    # serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo
    if len(fields) < i + 6:
        raise CryptoError("certificate: too few fields")
    spki = fields[i + 5]
    if spki[0] != 0x30:
        raise CryptoError("certificate: subjectPublicKeyInfo is not a SEQUENCE")
    return spki


_PEM = re.compile(rb"-----BEGIN ([A-Z ]+)-----\s*(.*?)\s*-----END \1-----", re.S)


class RsaKey:
    """An RSA public key, with the certificate's DER when it came from one."""

    def __init__(self, n, e, cert_der=None, source=""):
        self.n, self.e, self.cert_der, self.source = n, e, cert_der, source
        self.x5t = self.x5t_s256 = None
        if cert_der is not None:
            self.x5t = b64url_encode(hashlib.sha1(cert_der).digest())
            self.x5t_s256 = b64url_encode(hashlib.sha256(cert_der).digest())

    @property
    def bits(self):
        return self.n.bit_length()


def load_rsa_keys(pem):
    """Every RSA public key in a PEM file (CERTIFICATE, PUBLIC KEY, RSA PUBLIC KEY blocks)."""
    keys = []
    for kind, body in _PEM.findall(pem):
        der = base64.b64decode(b"".join(body.split()))
        if kind == b"CERTIFICATE":
            spki = _spki_of_certificate(der)
            n, e = _rsa_from_spki(der, spki[1], spki[2])
            keys.append(RsaKey(n, e, der, "certificate"))
        elif kind == b"PUBLIC KEY":
            tag, cs, ce = _der_item(der, 0)
            n, e = _rsa_from_spki(der, cs, ce)
            keys.append(RsaKey(n, e, None, "public key"))
        elif kind == b"RSA PUBLIC KEY":
            n, e = _rsa_from_pkcs1(der, 0, len(der))
            keys.append(RsaKey(n, e, None, "rsa public key"))
    if not keys:
        raise CryptoError("no CERTIFICATE / PUBLIC KEY block found")
    return keys


# ---- RSA signature verification ----

_SHA256_DIGESTINFO = bytes.fromhex("3031300d060960864801650304020105000420")


def verify_rs256(key, message, signature):
    k = (key.n.bit_length() + 7) // 8
    if len(signature) != k:
        return False
    s = int.from_bytes(signature, "big")
    if s >= key.n:
        return False
    em = pow(s, key.e, key.n).to_bytes(k, "big")
    t = _SHA256_DIGESTINFO + hashlib.sha256(message).digest()
    if k < len(t) + 11:
        return False
    expected = b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t
    return hmac.compare_digest(em, expected)


def _mgf1_sha256(seed, length):
    out = bytearray()
    counter = 0
    while len(out) < length:
        out += hashlib.sha256(seed + counter.to_bytes(4, "big")).digest()
        counter += 1
    return bytes(out[:length])


def verify_ps256(key, message, signature, salt_len=32):
    """EMSA-PSS-VERIFY with SHA-256 and MGF1-SHA-256. salt_len None accepts any salt
    length; JWS PS256 (RFC 7518 section 3.5) requires it to equal the hash length, 32."""
    h_len = 32
    k = (key.n.bit_length() + 7) // 8
    if len(signature) != k:
        return False
    s = int.from_bytes(signature, "big")
    if s >= key.n:
        return False
    mod_bits = key.n.bit_length()
    em_bits = mod_bits - 1
    em_len = (em_bits + 7) // 8
    m = pow(s, key.e, key.n)
    if m.bit_length() > em_bits:
        return False
    em = m.to_bytes(em_len, "big")
    if em_len < h_len + 2 or em[-1] != 0xBC:
        return False
    masked_db, h = em[:em_len - h_len - 1], em[em_len - h_len - 1:-1]
    zero_bits = 8 * em_len - em_bits
    if zero_bits and masked_db[0] >> (8 - zero_bits):
        return False
    db = bytearray(a ^ b for a, b in zip(masked_db, _mgf1_sha256(h, len(masked_db))))
    if zero_bits:
        db[0] &= 0xFF >> zero_bits
    i = 0
    while i < len(db) and db[i] == 0:
        i += 1
    if i >= len(db) or db[i] != 0x01:
        return False
    salt = bytes(db[i + 1:])
    if salt_len is not None and len(salt) != salt_len:
        return False
    m_prime = b"\x00" * 8 + hashlib.sha256(message).digest() + salt
    return hmac.compare_digest(hashlib.sha256(m_prime).digest(), h)


# ---- JWT ----

def jwt_split(token):
    """(header dict, claims dict, signing input bytes, signature bytes) or CryptoError."""
    if not isinstance(token, str) or token.count(".") != 2:
        raise CryptoError("not a compact JWS (three dot-separated parts)")
    h64, c64, s64 = token.split(".")
    try:
        header = json.loads(b64url_decode(h64))
        claims = json.loads(b64url_decode(c64))
        sig = b64url_decode(s64)
    except (ValueError, CryptoError) as e:
        raise CryptoError("undecodable part: %s" % e)
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise CryptoError("header and claims must be JSON objects")
    return header, claims, (h64 + "." + c64).encode("ascii"), sig


def hs256_encode(claims, secret, kid="annexa-emulator"):
    header = {"typ": "JWT", "alg": "HS256", "kid": kid}
    h = b64url_encode(json.dumps(header, separators=(",", ":")).encode())
    c = b64url_encode(json.dumps(claims, separators=(",", ":")).encode())
    sig = hmac.new(secret, (h + "." + c).encode("ascii"), hashlib.sha256).digest()
    return h + "." + c + "." + b64url_encode(sig)


def hs256_decode(token, secret):
    """Claims of a token this emulator issued, or None if it is not one of ours."""
    try:
        header, claims, signing_input, sig = jwt_split(token)
    except CryptoError:
        return None
    if header.get("alg") != "HS256":
        return None
    good = hmac.new(secret, signing_input, hashlib.sha256).digest()
    if not hmac.compare_digest(good, sig):
        return None
    return claims
