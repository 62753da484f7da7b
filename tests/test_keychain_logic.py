"""What a keychain status makes kubewarm do, decided without macOS (issue 10, item 3).

The statuses are the OSStatus codes SecKeychainFindGenericPassword and
SecKeychainItemModifyAttributesAndData return (SecBase.h). The calls themselves run in the
macOS CI job (tests/test_keyring_platforms.py, and the locked-keychain test there).
"""

import pytest
from kubewarm.engine.stores import macos_lean

# (status, meaning) as Security.framework reports them
REFUSALS = [
    (-25308, "errSecInteractionNotAllowed: locked, or not on the item's access list"),
    (-25293, "errSecAuthFailed"),
    (-128, "userCanceledErr"),
    (-25294, "errSecNoSuchKeychain"),
    (-25307, "errSecNoDefaultKeychain"),
    (-67030, "errSecCSInfoPlistFailed: an unsigned or re-signed Python"),
    (-34018, "errSecMissingEntitlement"),
]


def test_an_update_that_worked_is_done():
    assert macos_lean.write_plan(0) == "done"


def test_only_a_missing_item_is_added_through_keyring():
    """-25300: nothing to keep, so keyring may add the item (its access list is new anyway)."""
    assert macos_lean.write_plan(macos_lean.ITEM_NOT_FOUND) == "add"


@pytest.mark.parametrize("status", [s for s, _ in REFUSALS], ids=[m for _, m in REFUSALS])
def test_every_refusal_fails_fast(status):
    """No fallback to keyring's delete-and-add: it would prompt, or replace the access list
    that the in-place update keeps."""
    assert macos_lean.write_plan(status) == "fail"


def test_reasons_are_in_the_users_words():
    assert "permission" in macos_lean.reason(-25308)
    assert macos_lean.reason(-99999) == "keychain error -99999"
