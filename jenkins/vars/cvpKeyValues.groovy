import com.example.cvp.Text

/**
 * cvpKeyValues(text[, what]): "KEY=value" lines (a text parameter) as an ordered map. Blank lines and
 * lines starting with # are skipped. Fails the build naming the line when a line is not KEY=value.
 * `what` names the text in the error message (e.g. the parameter's name).
 */
def call(Object text, String what = 'text') {
    Map parsed = Text.keyValues(text)
    if (!parsed.problems.isEmpty()) {
        error("cvpKeyValues: ${what}: ${parsed.problems.join('; ')}")
    }
    return parsed.values
}
