"""Login, sessions, cookies and LDAP, as cmon does them (reference §1.6, §1.7, §2)."""

from __future__ import annotations

import time

import requests

from .conftest import Client


def test_login_sets_cmon_sid_and_returns_the_user(cmon_estate):
    ctl = cmon_estate(controllers=1, clusters=1, hosts=1)[0]
    resp = Client(ctl).login()
    assert resp.status_code == 200
    assert resp.cookies.get("cmon-sid")
    assert "HttpOnly" in resp.headers["Set-Cookie"]
    reply = resp.json()
    assert reply["request_status"] == "Ok"
    assert reply["controller_id"] == ctl.controller_id
    assert reply["is_superuser"] is True
    user = reply["user"]
    assert user["user_name"] == ctl.username
    assert user["origin"] == "CmonDb"
    assert user["class_name"] == "CmonUser"
    assert [g["group_name"] for g in user["groups"]] == ["admins"]


def test_wrong_password_is_access_denied_without_cookie(cmon_estate):
    ctl = cmon_estate(controllers=1, clusters=1, hosts=1)[0]
    resp = Client(ctl).login(password="wrong")
    assert resp.status_code == 200
    assert "cmon-sid" not in resp.cookies
    assert "Set-Cookie" not in resp.headers
    reply = resp.json()
    assert reply["request_status"] == "AccessDenied"
    assert reply["error_string"] == "Username or password is incorrect."
    assert "user" not in reply and "request_user_id" not in reply
    assert reply["controller_id"] == ctl.controller_id


def test_credentials_of_one_controller_fail_on_another(cmon_estate):
    estate = cmon_estate(controllers=2, clusters=1, hosts=1)
    resp = Client(estate[1]).login(estate[0].username, estate[0].password)
    assert resp.json()["request_status"] == "AccessDenied"


def test_calls_without_session_answer_401_auth_required(cmon_estate):
    ctl = cmon_estate(controllers=1, clusters=1, hosts=1)[0]
    for module, op in (("clusters", "getAllClusterInfo"), ("alarm", "getAlarms"),
                       ("users", "whoAmI"), ("clusters", "noSuchOp")):
        resp = Client(ctl).post(module, {"operation": op})
        assert resp.status_code == 401, module
        reply = resp.json()
        assert reply["request_status"] == "AuthRequired"
        assert reply["error_string"]
        assert reply["controller_id"] == ctl.controller_id
        assert "request_user_id" not in reply


def test_unknown_session_cookie_is_auth_required(cmon_estate):
    ctl = cmon_estate(controllers=1, clusters=1, hosts=1)[0]
    resp = Client(ctl).post("clusters", {"operation": "ping"},
                            headers={"Cookie": "cmon-sid=0123456789abcdef"})
    assert resp.status_code == 401


def test_cookie_with_go_style_attributes_is_accepted(cmon_estate):
    ctl = cmon_estate(controllers=1, clusters=1, hosts=1)[0]
    sid = Client(ctl).login().cookies["cmon-sid"]
    bare = Client(ctl)
    # What cmon-proxy sends: Go's Cookie.String() including attributes.
    resp = bare.post("users", {"operation": "whoAmI"},
                     headers={"Cookie": f"cmon-sid={sid}; Path=/; HttpOnly; Secure"})
    assert resp.status_code == 200
    assert resp.json()["user"]["user_name"] == ctl.username


def test_who_am_i_reports_the_session_user(cmon_estate, client_for):
    ctl = cmon_estate(controllers=1, clusters=1, hosts=1)[0]
    reply = client_for(ctl).call("users", "whoAmI", with_extended_privileges=True)
    assert reply["user"]["user_name"] == ctl.username
    assert reply["user_extended_privileges"]["class_name"] == "CmonExtendedPrivileges"


def test_logout_ends_the_session(cmon_estate, client_for):
    ctl = cmon_estate(controllers=1, clusters=1, hosts=1)[0]
    client = client_for(ctl)
    sid = client.session.cookies["cmon-sid"]
    assert client.call("auth", "logout")["request_status"] == "Ok"
    resp = Client(ctl).post("clusters", {"operation": "ping"},
                            headers={"Cookie": f"cmon-sid={sid}"})
    assert resp.status_code == 401


def test_session_expires_after_ttl_and_relogin_works(cmon_estate, client_for):
    ctl = cmon_estate(controllers=1, clusters=1, hosts=1, faults={0: {"session_ttl": 0.5}})[0]
    client = client_for(ctl)
    assert client.post("clusters", {"operation": "ping"}).status_code == 200
    time.sleep(0.7)
    expired = client.post("clusters", {"operation": "ping"})
    assert expired.status_code == 401
    assert expired.json()["request_status"] == "AuthRequired"
    assert client.login().json()["request_status"] == "Ok"
    assert client.post("clusters", {"operation": "ping"}).status_code == 200


def test_expire_sessions_via_admin_forces_reauth(cmon_estate, client_for):
    ctl = cmon_estate(controllers=1, clusters=1, hosts=1)[0]
    client = client_for(ctl)
    assert ctl.expire_sessions() >= 1
    assert client.post("clusters", {"operation": "ping"}).status_code == 401


def test_auth_required_can_be_signalled_in_body_only(cmon_estate):
    ctl = cmon_estate(controllers=1, clusters=1, hosts=1,
                      faults={0: {"status_codes": "always200"}})[0]
    resp = Client(ctl).post("clusters", {"operation": "ping"})
    assert resp.status_code == 200
    assert resp.json()["request_status"] == "AuthRequired"


def test_mirror_status_codes_map_like_cmon_proxy(cmon_estate, client_for):
    ctl = cmon_estate(controllers=1, clusters=1, hosts=1,
                      faults={0: {"status_codes": "mirror"}})[0]
    client = client_for(ctl)
    assert client.post("clusters", {"operation": "nope"}).status_code == 400
    assert client.post("alarm", {"operation": "getAlarms", "cluster_id": 9}).status_code == 404
    assert Client(ctl).login(password="bad").status_code == 401


def test_wrong_credentials_fault_denies_valid_passwords(cmon_estate):
    ctl = cmon_estate(controllers=1, clusters=1, hosts=1,
                      faults={0: {"wrong_credentials": True}})[0]
    assert Client(ctl).login().json()["request_status"] == "AccessDenied"
    ctl.set_faults(wrong_credentials=False)
    assert Client(ctl).login().json()["request_status"] == "Ok"


def test_ldap_user_logs_in_with_ldap_only_on_ldap_controllers(cmon_estate):
    estate = cmon_estate(controllers=2, clusters=1, hosts=1, ldap=[1])
    plain, ldap = estate[0], estate[1]
    assert ldap.ldap and not plain.ldap
    user, password = ldap.ldap_users[0]
    reply = Client(ldap).login(user, password, ldap_only=True).json()
    assert reply["request_status"] == "Ok"
    assert reply["user"]["origin"] == "LDAP"
    assert reply["user"]["user_name"] == user
    assert Client(plain).login(user, password, ldap_only=True).json()[
        "request_status"] == "AccessDenied"
    # ldap_only excludes local users, even with the right password.
    assert Client(ldap).login(ldap.username, ldap.password, ldap_only=True).json()[
        "request_status"] == "AccessDenied"
    assert Client(ldap).login().json()["request_status"] == "Ok"


def test_empty_auth_operation_is_rejected_like_cmon(cmon_estate):
    ctl = cmon_estate(controllers=1, clusters=1, hosts=1)[0]
    reply = Client(ctl).call("auth", "")
    assert reply["request_status"] == "InvalidRequest"
    assert reply["error_string"] == "Unexpected request '' in state ''"


def test_rotated_cookie_replaces_the_session_quirk(cmon_estate):
    ctl = cmon_estate(controllers=1, clusters=1, hosts=1,
                      quirks=frozenset({"rotate_sid"}))[0]
    client = Client(ctl)
    client.login()
    first = client.session.cookies["cmon-sid"]
    rotated = False
    for _ in range(6):
        resp = client.post("clusters", {"operation": "ping"})
        assert resp.status_code == 200
        rotated = rotated or "Set-Cookie" in resp.headers
    assert rotated
    assert client.session.cookies["cmon-sid"] != first
    # The old value keeps working: a client with the old cookie is not cut off.
    assert requests.post(ctl.rpc_url("clusters"), json={"operation": "ping"}, verify=False,
                         cookies={"cmon-sid": first}, timeout=5).status_code == 200


def _sign(pem: str, challenge: str) -> str:
    import base64

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    key = serialization.load_pem_private_key(pem.encode(), None)
    return base64.b64encode(key.sign(challenge.encode(), padding.PKCS1v15(),
                                     hashes.SHA256())).decode()


def test_key_login_answers_a_challenge_with_its_signature(cmon_estate):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    estate = cmon_estate(controllers=1, clusters=1, hosts=1)
    ctl, pem = estate[0], estate.private_key_pem()
    client = Client(ctl)
    step1 = client.post("auth", {"operation": "authenticate", "user_name": ctl.username,
                                 "password": ""})
    challenge = step1.json()["challenge"]
    assert step1.json()["request_status"] == "Ok" and step1.cookies.get("cmon-sid")
    step2 = client.post("auth", {"operation": "authenticateResponse",
                                 "signature": _sign(pem, challenge)})
    reply = step2.json()
    assert reply["request_status"] == "Ok" and reply["user"]["user_name"] == ctl.username
    assert client.call("users", "whoAmI")["request_status"] == "Ok"
    # A challenge is answered once.
    again = client.post("auth", {"operation": "authenticateResponse",
                                 "signature": _sign(pem, challenge)}).json()
    assert again["request_status"] == "InvalidRequest"

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    stranger = Client(ctl)
    challenge = stranger.call("auth", "authenticate", user_name=ctl.username)["challenge"]
    refused = stranger.post("auth", {"operation": "authenticateResponse",
                                     "signature": _sign(other, challenge)})
    assert refused.json()["request_status"] == "AccessDenied"
    assert "Set-Cookie" not in refused.headers
    assert Client(ctl).call("auth", "authenticate", user_name="nobody")["request_status"] \
        == "AccessDenied"
