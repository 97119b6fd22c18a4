import com.example.cvp.CvpEvent
import com.example.cvp.Values

/**
 * cvpEvent(): the group-testing event this build was started for, as a com.example.cvp.CvpEvent:
 *   artifactType, artifactId, component, errataId, images (list of maps), runId, source, body,
 *   image(name) (the image map, or null), imageFullName(name) ('' when not rebuilt),
 *   imageParameters([imageName: 'PARAM', ...]) ([PARAM: full_name or '']).
 *
 * Where the event is read from, first found wins:
 *   cvpEvent(text: json)        the JSON text itself
 *   cvpEvent(file: 'ev.json')   a file in the workspace (needs a node)
 *   params.CVP_EVENT            a build parameter (the validator's manual input)
 *   params.CI_MESSAGE           the parameter the CI-event (JMS/UMB) trigger fills, when the job declares it
 *   env.CI_MESSAGE              the variable the CI-event trigger sets otherwise
 * The run id is params.CVP_RUN_ID (set by CVP on every build it starts), else env.CVP_RUN_ID, else ''.
 *
 * Fails the build (error) with every problem, naming the field, when the event is missing, is not
 * JSON, or is not a redhat-container-group event with id, component, errata_id and named images.
 */
def call(Map args = [:]) {
    Map source = pickSource(args)
    if (source == null) {
        error('cvpEvent: no event: this build has no CI_MESSAGE (set by the CI-event trigger) and no CVP_EVENT parameter; or pass cvpEvent(text: json) or cvpEvent(file: path)')
    }
    Object body = null
    String unreadable = null
    try {
        body = source.file ? readJSON(file: source.file, returnPojo: true) : readJSON(text: source.text, returnPojo: true)
    } catch (Exception e) {
        unreadable = e.message ?: e.toString()
    }
    if (unreadable != null) {
        error("cvpEvent: ${source.name} is not JSON: ${unreadable}")
    }
    List<String> problems = CvpEvent.problems(body)
    if (!problems.isEmpty()) {
        error("cvpEvent: ${source.name} is not a usable group-testing event: ${problems.join('; ')}")
    }
    String runId = Values.firstNonBlank([params?.CVP_RUN_ID, env?.CVP_RUN_ID]) ?: ''
    CvpEvent event = CvpEvent.of((Map) body, runId, source.name)
    echo "cvpEvent: ${event.describe()}"
    return event
}

/** [name:, text:] or [name:, file:] of the first place that holds an event; null when none does. */
private Map pickSource(Map args) {
    if (!Values.blank(args.text)) {
        return [name: 'text', text: args.text.toString()]
    }
    if (!Values.blank(args.file)) {
        return [name: "file ${args.file}".toString(), file: args.file.toString()]
    }
    if (!Values.blank(params?.CVP_EVENT)) {
        return [name: 'CVP_EVENT', text: params.CVP_EVENT.toString()]
    }
    if (!Values.blank(params?.CI_MESSAGE)) {
        return [name: 'CI_MESSAGE', text: params.CI_MESSAGE.toString()]
    }
    if (!Values.blank(env?.CI_MESSAGE)) {
        return [name: 'env.CI_MESSAGE', text: env.CI_MESSAGE.toString()]
    }
    return null
}
