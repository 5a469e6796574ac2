// SPDX-License-Identifier: MIT
pragma solidity >=0.8.0 <0.9.0;

/// @notice Minimal stand-in for dapphub's ds-test, which forge-std 1.1.2 (npm) imports but does not ship.
/// CareChain's own code: the log events, `IS_TEST`, `failed()`, `fail()` and the assertions forge-std and our
/// tests use. Unlike the original, a failed assertion reverts at once (forge >= 1.0 does not read a `failed`
/// flag unless `legacy_assertions` is set), with a message naming both values.
abstract contract DSTest {
    event log(string);
    event log_named_string(string key, string val);
    event log_named_uint(string key, uint256 val);
    event log_named_int(string key, int256 val);
    event log_named_decimal_uint(string key, uint256 val, uint256 decimals);
    event log_named_address(string key, address val);
    event log_named_bytes32(string key, bytes32 val);

    bool public IS_TEST = true;

    /// Always false: a failing assertion reverts instead of recording a flag. Kept for the DSTest interface.
    function failed() public pure returns (bool) {
        return false;
    }

    function fail() internal pure virtual {
        revert("assertion failed");
    }

    function assertTrue(bool condition) internal pure {
        if (!condition) revert("assertTrue failed");
    }

    function assertTrue(bool condition, string memory err) internal pure {
        if (!condition) revert(err);
    }

    function assertEq(uint256 a, uint256 b) internal pure {
        if (a != b) revert(string.concat("assertEq failed: ", _str(a), " != ", _str(b)));
    }

    function assertEq(uint256 a, uint256 b, string memory err) internal pure {
        if (a != b) revert(string.concat(err, ": ", _str(a), " != ", _str(b)));
    }

    function assertEq(int256 a, int256 b) internal pure {
        if (a != b) revert("assertEq(int) failed");
    }

    function assertEq(address a, address b) internal pure {
        if (a != b) revert(string.concat("assertEq failed: ", _hex(uint160(a), 20), " != ", _hex(uint160(b), 20)));
    }

    function assertEq(address a, address b, string memory err) internal pure {
        if (a != b) revert(string.concat(err, ": ", _hex(uint160(a), 20), " != ", _hex(uint160(b), 20)));
    }

    function assertEq(bytes32 a, bytes32 b) internal pure {
        if (a != b) revert(string.concat("assertEq failed: ", _hex(uint256(a), 32), " != ", _hex(uint256(b), 32)));
    }

    function assertEq(bytes32 a, bytes32 b, string memory err) internal pure {
        if (a != b) revert(string.concat(err, ": ", _hex(uint256(a), 32), " != ", _hex(uint256(b), 32)));
    }

    function assertEq(string memory a, string memory b) internal pure {
        if (keccak256(bytes(a)) != keccak256(bytes(b))) revert(string.concat("assertEq failed: ", a, " != ", b));
    }

    function assertEq0(bytes memory a, bytes memory b) internal pure {
        if (keccak256(a) != keccak256(b)) revert("assertEq(bytes) failed");
    }

    function assertEq0(bytes memory a, bytes memory b, string memory err) internal pure {
        if (keccak256(a) != keccak256(b)) revert(err);
    }

    function assertGt(uint256 a, uint256 b) internal pure {
        if (a <= b) revert(string.concat("assertGt failed: ", _str(a), " <= ", _str(b)));
    }

    function assertGe(uint256 a, uint256 b) internal pure {
        if (a < b) revert(string.concat("assertGe failed: ", _str(a), " < ", _str(b)));
    }

    function assertLt(uint256 a, uint256 b) internal pure {
        if (a >= b) revert(string.concat("assertLt failed: ", _str(a), " >= ", _str(b)));
    }

    function assertLe(uint256 a, uint256 b) internal pure {
        if (a > b) revert(string.concat("assertLe failed: ", _str(a), " > ", _str(b)));
    }

    function _str(uint256 value) private pure returns (string memory) {
        if (value == 0) return "0";
        uint256 digits;
        for (uint256 v = value; v != 0; v /= 10) ++digits;
        bytes memory out = new bytes(digits);
        for (; value != 0; value /= 10) out[--digits] = bytes1(uint8(48 + value % 10));
        return string(out);
    }

    function _hex(uint256 value, uint256 length) private pure returns (string memory) {
        bytes memory out = new bytes(2 + 2 * length);
        out[0] = "0";
        out[1] = "x";
        for (uint256 i = 2 * length + 1; i > 1; --i) {
            out[i] = bytes("0123456789abcdef")[value & 0xf];
            value >>= 4;
        }
        return string(out);
    }
}
