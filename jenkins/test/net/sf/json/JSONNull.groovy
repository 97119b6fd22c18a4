package net.sf.json

/**
 * Test stand-in for json-lib's JSONNull, which Jenkins' readJSON puts where the JSON has null (unless
 * returnPojo: true). Like the real one it equals null and prints "null", yet it is an object, so
 * `if (value)` is true for it: the library must treat it as missing (com.example.cvp.Values).
 */
final class JSONNull {
    static final JSONNull INSTANCE = new JSONNull()

    private JSONNull() {
    }

    static JSONNull getInstance() {
        return INSTANCE
    }

    @Override
    boolean equals(Object other) {
        return other == null || other instanceof JSONNull
    }

    @Override
    int hashCode() {
        return 0
    }

    @Override
    String toString() {
        return 'null'
    }
}
