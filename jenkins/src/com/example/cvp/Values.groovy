package com.example.cvp

/**
 * Small value helpers shared by the library's steps and classes.
 *
 * They exist because of one trap: Jenkins' readJSON (without returnPojo: true) returns net.sf.json
 * objects, and a JSON null becomes a JSONNull instance, which is not null and is true in an `if`.
 * Every read of an event field goes through these helpers so that JSONNull counts as missing.
 */
class Values implements Serializable {
    private static final long serialVersionUID = 1L

    /** True for null and for net.sf.json's JSONNull (matched by name: the class is not on our classpath). */
    static boolean isNull(Object v) {
        return v == null || v.getClass().getName() == 'net.sf.json.JSONNull'
    }

    /** The value as a string, or null when it is missing. */
    static String str(Object v) {
        return isNull(v) ? null : v.toString()
    }

    /** True when the value is missing or only whitespace. */
    static boolean blank(Object v) {
        return isNull(v) || v.toString().trim().isEmpty()
    }

    /** The first value of the list that is not blank, as a string; null when all are (a list, not varargs: plainer under CPS). */
    static String firstNonBlank(List values) {
        for (Object v : values) {
            if (!blank(v)) {
                return v.toString()
            }
        }
        return null
    }

    /** A positive whole number (Integer, Long or a string of digits) as a Long; null otherwise. */
    static Long positiveLong(Object v) {
        if (isNull(v)) {
            return null
        }
        String s = v.toString().trim()
        if (!(s ==~ /[1-9][0-9]{0,17}/)) {
            return null
        }
        return Long.valueOf(s)
    }

    /**
     * The JMS Messaging plugin major a pipeline binds to: '1' (1.1.x) or '2' (2.0.x), from 1, '1',
     * 'v1', '1.x', ... (null: '2'). Returns null for anything else.
     */
    static String jmsMajor(Object value) {
        String v = value == null ? '2' : value.toString().trim().toLowerCase()
        if (v == '1' || v == 'v1' || v == '1.x') {
            return '1'
        }
        if (v == '2' || v == 'v2' || v == '2.x') {
            return '2'
        }
        return null
    }

}
