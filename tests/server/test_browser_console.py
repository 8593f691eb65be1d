"""The staff console in a real browser (headless Chromium through Selenium) against a live server.

Sign-in with a TOTP code, the language switch, taking an application with a photo upload, a loss report,
and error pages. The browser asks for zh-TW, as an office PC in Taiwan does, so pages start in zh-Hant.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.db import connection
from django.utils import timezone
from django_otp.oath import totp  # type: ignore[import-untyped]
from django_otp.plugins.otp_totp.models import TOTPDevice  # type: ignore[import-untyped]

from neweid.server.accounts.models import Office
from neweid.server.accounts.roles import Role
from neweid.server.applications.models import Application
from neweid.server.audit.context import actor_id
from neweid.server.cards.states import CardState, CertificateState
from neweid.server.operations.models import LossReport
from neweid.server.operations.rules import OfficeHours
from tests.conftest import require_system_part
from tests.server import test_applications_support as applications_support
from tests.server import test_operations_support as operations_support
from tests.server.browser_support import (
    WAIT_SECONDS,
    browser_available,
    jpeg_file,
    start_browser,
    wait_for_request_threads,
)
from tests.server.conftest import StaffAccount

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.remote.webelement import WebElement

pytestmark = pytest.mark.django_db(transaction=True)

LEAKS = ("Traceback", "RuntimeError", "passwd", "secret internal detail", 'File "', "settings.py")


class Browser:
    """The page under test: thin helpers over the driver, addressing fields by their form name."""

    def __init__(self, driver: WebDriver, base_url: str) -> None:
        self.driver = driver
        self.base_url = base_url

    def open(self, path: str) -> None:
        self.driver.get(self.base_url + path)

    @property
    def path(self) -> str:
        url = str(self.driver.current_url)
        assert url.startswith(self.base_url)
        return url[len(self.base_url):]

    def find(self, css: str) -> WebElement:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, css)

    def text(self, css: str = "body") -> str:
        return str(self.find(css).text)

    def source(self) -> str:
        return str(self.driver.page_source)

    def fill(self, name: str, value: str) -> None:
        field = self.find(f"main [name='{name}']")
        field.clear()
        field.send_keys(value)

    def choose(self, name: str, value: str) -> None:
        from selenium.webdriver.support.select import Select

        Select(self.find(f"[name='{name}']")).select_by_value(value)

    def click_and_wait(self, css: str) -> None:
        """Click (a submit button or a link) and wait until the next page has replaced this one."""
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.support.wait import WebDriverWait

        # A mark on this page's window: a new document does not have it (more robust than waiting for the
        # old <html> element to go stale, which Chromium sometimes reports as another error).
        self.driver.execute_script("window.neweidPreviousPage = true;")
        self.find(css).click()
        WebDriverWait(self.driver, WAIT_SECONDS, ignored_exceptions=(WebDriverException,)).until(
            lambda driver: driver.execute_script(
                "return document.readyState === 'complete' && window.neweidPreviousPage !== true;"))

    def submit_main_form(self) -> None:
        self.click_and_wait("main form button[type='submit']")

    def switch_language(self, code: str) -> None:
        self.choose("language", code)
        self.click_and_wait("header form button[type='submit']")


def current_code(user: Any) -> str:
    """The code the staff member's authenticator shows now, from the device's key in the database."""
    device = TOTPDevice.objects.get(user=user)
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
    return f"{code:0{device.digits}d}"


def wait_out_throttling(user: Any) -> None:
    """django-otp refuses any code for a second after a wrong one (doubling each time): a person waits."""
    allowed, data = TOTPDevice.objects.get(user=user).verify_is_allowed()
    if not allowed:
        assert data is not None
        time.sleep(max(0.0, (data["locked_until"] - timezone.now()).total_seconds()) + 0.05)


def sign_in(browser: Browser, account: StaffAccount, code: str | None = None) -> None:
    browser.open("/login/")
    browser.fill("username", account.username)
    browser.fill("password", account.password)
    browser.fill("otp_token", current_code(account.user) if code is None else code)
    browser.submit_main_form()


@pytest.fixture(scope="session")
def driver(tmp_path_factory: pytest.TempPathFactory, live_server: Any) -> Iterator[WebDriver]:
    """One browser for the session; it quits before the live server stops (it depends on it)."""
    require_system_part(browser_available(), "Chromium, chromedriver and selenium (browser UI tests)")
    started = start_browser(tmp_path_factory.mktemp("chromium-profile"))
    yield started
    started.quit()
    wait_for_request_threads()


@pytest.fixture
def browser(driver: WebDriver, live_server: Any, monkeypatch: pytest.MonkeyPatch) -> Browser:
    """The shared browser with no cookies: each test starts signed out, with no language chosen."""
    # The live server serves the browser's keep-alive connections in threads that outlive the test; with
    # persistent database connections their sessions would block dropping PostgreSQL's test database.
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 0)
    driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
    return Browser(driver, str(live_server.url))


@pytest.fixture
def clerk(make_staff: Callable[..., StaffAccount]) -> StaffAccount:
    return make_staff(Role.OFFICE_CLERK)


def test_sign_in_with_a_totp_code_lands_on_home(browser: Browser, clerk: StaffAccount) -> None:
    browser.open("/")
    assert browser.path == "/login/"  # signed out: sent to the sign-in page
    assert browser.text("h1") == "工作人員登入"
    assert browser.find("html").get_attribute("lang") == "zh-Hant"
    assert browser.find("#id_otp_token").get_attribute("autocomplete") == "one-time-code"

    sign_in(browser, clerk, code=clerk.wrong_token())
    assert browser.path == "/login/"
    alert = browser.text("[role='alert']")
    assert "A001" in alert and "帳號、密碼或驗證碼不正確" in alert
    assert browser.find("#id_password").get_attribute("value") == ""  # the password is not sent back
    browser.open("/")
    assert browser.path == "/login/"  # the refused attempt did not start a session
    assert TOTPDevice.objects.get(user=clerk.user).throttling_failure_count == 1

    wait_out_throttling(clerk.user)
    sign_in(browser, clerk)
    assert browser.path == "/"
    assert browser.text("h1") == "歡迎"
    main = browser.text("main")
    assert "臺北市中正區戶政事務所 (6300500001)" in main
    assert "戶政事務所承辦人員" in main
    assert actor_id(clerk.user) in main  # the staff ID

    browser.click_and_wait("header form[action='/logout/'] button")
    assert browser.path == "/login/"
    browser.open("/")
    assert browser.path == "/login/"


def test_language_switch_changes_the_labels(browser: Browser, clerk: StaffAccount) -> None:
    sign_in(browser, clerk)
    assert browser.text("h1") == "歡迎"
    assert "角色" in browser.text("main dl")

    browser.switch_language("en")
    assert browser.path == "/"  # back on the same page, still signed in
    assert browser.find("html").get_attribute("lang") == "en"
    assert browser.text("h1") == "Welcome"
    main = browser.text("main")
    assert "Roles" in main and "Office clerk" in main
    assert "Zhongzheng Household Registration Office (6300500001)" in main
    assert "歡迎" not in browser.text("body")

    browser.open("/applications/find/")  # the choice is kept (cookie) on the next page
    assert browser.text("h1") == "Find a citizen"

    browser.switch_language("zh-hant")
    assert browser.path == "/applications/find/"
    assert browser.find("html").get_attribute("lang") == "zh-Hant"
    assert browser.text("h1") == "查詢民眾資料"


def test_clerk_finds_a_citizen_and_takes_an_application(browser: Browser, clerk: StaffAccount,
                                                        tmp_path: Path) -> None:
    person = applications_support.make_person()
    photo = jpeg_file(tmp_path)
    sign_in(browser, clerk)

    browser.open("/applications/find/")
    browser.fill("id_number", person.id_number.lower())  # typed in lower case: still found
    browser.submit_main_form()
    assert browser.text("main h2") == "陳志明 (CHEN, CHIH-MING)"
    assert person.id_number in browser.text("main dl")
    assert "現住" in browser.text("main dl")

    browser.click_and_wait("main #take-application")
    assert browser.text("h1") == "受理申請"
    assert browser.find("main [name='id_number']").get_attribute("value") == person.id_number
    browser.choose("channel", "counter")
    browser.choose("kind", "replacement")
    browser.choose("replacement_reason", "photo")
    browser.choose("applicant_role", "self")
    assert browser.find("main [name='certificate_opt_in']").is_selected()  # attached by default
    browser.find("main input[type='file'][name='photo']").send_keys(str(photo))
    browser.submit_main_form()

    application = Application.objects.get(person__id_number=person.id_number)
    assert browser.path == f"/applications/{application.pk}/"
    assert browser.text("h1") == f"申請案件 #{application.pk}"
    details = browser.text("main dl")
    assert "換領" in details and "變更相片" in details and "NT$ 200" in details
    assert application.office.code == "6300500001" and bytes(application.photo) == photo.read_bytes()

    browser.open("/applications/find/")  # the new application is listed with the citizen
    browser.fill("id_number", person.id_number)
    browser.submit_main_form()
    assert f"#{application.pk}" in browser.text("main ul")


def test_take_application_refuses_a_malformed_id_number(browser: Browser, clerk: StaffAccount,
                                                        tmp_path: Path) -> None:
    sign_in(browser, clerk)
    browser.open("/applications/new/")
    browser.fill("id_number", "<script>")
    browser.find("main input[type='file'][name='photo']").send_keys(str(jpeg_file(tmp_path)))
    browser.submit_main_form()
    assert browser.path == "/applications/new/"
    assert browser.find("main .error").is_displayed()
    assert not Application.objects.exists()


def test_clerk_reports_a_lost_card(browser: Browser, clerk: StaffAccount, office: Office,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # A counter report needs the office open; the test must not depend on the hour it runs at.
    monkeypatch.setattr(OfficeHours, "are_open", lambda self, at: True)
    person = operations_support.make_person()
    card = operations_support.make_card(person, office)
    sign_in(browser, clerk)
    browser.switch_language("en")

    browser.open("/operations/loss/")
    assert browser.text("h1") == "Report a lost card"
    browser.choose("action", "report")
    browser.fill("id_number", person.id_number)
    browser.choose("channel", "counter")
    browser.submit_main_form()

    result = browser.text("main section[aria-live='polite']")
    assert "The card is reported lost" in result
    assert card.serial in result and "suspended" in result
    card.refresh_from_db()
    assert (card.state, card.certificate_state) == (CardState.LOST, CertificateState.SUSPENDED)
    assert LossReport.objects.get(card=card).office == office

    browser.fill("id_number", person.id_number)  # a second report: there is no card in use any more
    browser.submit_main_form()
    assert re.search(r"\b[A-Z]\d{3}\b", browser.text("main [role='alert']"))
    assert LossReport.objects.filter(card=card).count() == 1


def test_missing_page_shows_a_short_code(browser: Browser) -> None:
    browser.open("/no/such/page/")
    assert browser.text("h1") == "錯誤 E404"
    assert "查無資料" in browser.text("main")
    for leak in LEAKS:
        assert leak not in browser.source()


@pytest.mark.urls("tests.server.urls_errors")
def test_server_error_shows_a_short_code_and_no_traceback(browser: Browser) -> None:
    browser.open("/boom/")
    assert "E500" in browser.text("h1")
    assert "系統內部錯誤" in browser.text("main")
    for leak in LEAKS:
        assert leak not in browser.source()


def test_expired_form_shows_a_short_code(browser: Browser, clerk: StaffAccount) -> None:
    browser.open("/login/")
    browser.driver.delete_cookie("csrftoken")  # as if the form had been left open too long
    browser.fill("username", clerk.username)
    browser.fill("password", clerk.password)
    browser.fill("otp_token", current_code(clerk.user))
    browser.submit_main_form()
    assert "A004" in browser.text("h1")
    for leak in LEAKS:
        assert leak not in browser.source()
