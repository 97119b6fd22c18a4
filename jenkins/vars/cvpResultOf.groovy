import com.example.cvp.CiMessage

/**
 * cvpResultOf(buildResult): the ci-messages test.result for a Jenkins build result:
 *   SUCCESS -> 'passed', UNSTABLE -> 'needs_inspection', FAILURE -> 'failed',
 *   anything else (ABORTED, NOT_BUILT, null) -> null: no verdict (cvpReport sends a test.error).
 * buildResult is a string (currentBuild.currentResult) or what `build` returns (its .result is used).
 */
def call(Object buildResult) {
    Object value = buildResult
    if (buildResult != null && !(buildResult instanceof CharSequence)) {
        value = buildResult.result
    }
    return CiMessage.resultOf(value)
}
