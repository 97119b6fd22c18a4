import groovy.json.JsonSlurper
import org.codehaus.groovy.runtime.InvokerHelper

/**
 * Runs the library's vars steps and the pipelines under plain Groovy, with the pipeline steps they call
 * supplied by this binding and every call recorded:
 *   echo, error (throws PipelineError), readJSON (JsonSlurper; text: or file:), sendCIMessage (records
 *   the message; v1 map or v2 activeMQPublisher), build (answers with onBuild), properties, parameters,
 *   string/text/booleanParam, pipelineTriggers, ciBuildTrigger, activeMQSubscriber, msgCheck, node,
 *   stage, library; and env, params, currentBuild as maps.
 * Each vars/<name>.groovy is bound as <name>(...), calling its call(...), as Jenkins does.
 * Compiled scripts are cached per JVM: one harness per test case is cheap.
 */
class PipelineHarness {
    private static final Map<String, Class> COMPILED = [:]
    /** Harnesses created since the runner last cleared this (to collect what each test case sent). */
    static final List<PipelineHarness> lastCreated = []
    private static GroovyClassLoader loader

    final File root
    final Binding binding = new Binding()
    final Map env = [
        BUILD_URL   : 'https://jenkins.example.com/job/cvp/job/validator/7/',
        BUILD_NUMBER: '7',
        JOB_NAME    : 'cvp/validator',
        JOB_URL     : 'https://jenkins.example.com/job/cvp/job/validator/',
    ]
    final Map params = [:]
    final Map currentBuild = [result: null, currentResult: 'SUCCESS', description: null]
    /** Every step call: [step: name, args: the argument (or list of arguments)]. */
    final List<Map> calls = []
    final List<String> echoes = []
    /** Messages sent with sendCIMessage: [api:, providerName:, messageType:, topic:, properties:, content:, failOnError:]. */
    final List<Map> sent = []
    /** The same, never cleared by a test. */
    final List<Map> allSent = []
    final List<String> stages = []
    /** Answers the `build` step: a RunWrapper-like map. */
    Closure onBuild = { Map a -> [result: 'SUCCESS', absoluteUrl: 'https://jenkins.example.com/job/Pipelines/job/openshift-integration-pipeline/1234/', number: 1234, fullDisplayName: "${a.job} #1234".toString()] }

    PipelineHarness(File root) {
        this.root = root
        lastCreated << this
        if (loader == null) {
            loader = new GroovyClassLoader(PipelineHarness.classLoader)
            loader.addClasspath(new File(root, 'src').absolutePath)
        }
        binding.setVariable('env', env)
        binding.setVariable('params', params)
        binding.setVariable('currentBuild', currentBuild)
        installSteps()
        new File(root, 'vars').listFiles().findAll { it.name.endsWith('.groovy') }.sort { it.name }.each { File f ->
            String name = f.name - '.groovy'
            Script script = load(f)
            binding.setVariable(name, { Object[] a -> script.invokeMethod('call', a) })
        }
    }

    /** Runs a pipeline script (e.g. pipelines/validator.Jenkinsfile) to its end. */
    Object runPipeline(String relativePath) {
        return load(new File(root, relativePath)).run()
    }

    /** Calls a vars step as a pipeline would. */
    Object step(String name, Object... args) {
        return ((Closure) binding.getVariable(name)).call(args)
    }

    /** The arguments of every call of a step. */
    List callsOf(String step) {
        return calls.findAll { it.step == step }*.args
    }

    private Script load(File file) {
        Class cls = COMPILED[file.absolutePath]
        if (cls == null) {
            cls = loader.parseClass(file)
            COMPILED[file.absolutePath] = cls
        }
        return InvokerHelper.createScript(cls, binding)
    }

    private void define(String name, Closure impl) {
        binding.setVariable(name, { Object[] a ->
            calls << [step: name, args: a.length == 1 ? a[0] : a.toList()]
            impl.call(a)
        })
    }

    private static Map symbol(String name, Object[] a) {
        Map out = [$symbol: name]
        if (a.length == 1 && a[0] instanceof Map) {
            out.putAll((Map) a[0])
        } else {
            out.args = a.toList()
        }
        return out
    }

    private void installSteps() {
        define('echo') { Object[] a -> echoes << a[0].toString(); null }
        define('error') { Object[] a -> throw new PipelineError(a[0].toString()) }
        define('readJSON') { Object[] a ->
            Map o = (Map) a[0]
            if (o.containsKey('text')) {
                return new JsonSlurper().parseText(o.text.toString())
            }
            return new JsonSlurper().parse(new File(o.file.toString()))
        }
        define('sendCIMessage') { Object[] a ->
            Map o = (Map) a[0]
            Map m = o.$symbol == 'activeMQPublisher'
                ? [api: 'v2', providerName: o.name, messageType: null, topic: o.overrides?.topic, properties: o.messageProperties, content: o.messageContent, failOnError: o.failOnError]
                : [api: 'v1', providerName: o.providerName, messageType: o.messageType, topic: o.overrides?.topic, properties: o.messageProperties, content: o.messageContent, failOnError: o.failOnError]
            sent << m
            allSent << m
            return [messageId: "ID:harness-${sent.size()}".toString(), messageContent: m.content]
        }
        define('build') { Object[] a -> onBuild.call((Map) a[0]) }
        define('node') { Object[] a -> ((Closure) a[a.length - 1]).call() }
        define('stage') { Object[] a -> stages << a[0].toString(); ((Closure) a[a.length - 1]).call() }
        define('library') { Object[] a -> null }
        define('properties') { Object[] a ->
            // Like a job that already ran once: the declared parameters' defaults fill what is not given.
            for (Object p : (List) a[0]) {
                if (p instanceof Map && p.$symbol == 'parameters') {
                    for (Object d : (List) p.args[0]) {
                        if (!params.containsKey(d.name)) {
                            params[d.name] = d.defaultValue
                        }
                    }
                }
            }
            null
        }
        ['parameters', 'pipelineTriggers', 'string', 'text', 'booleanParam', 'ciBuildTrigger', 'activeMQSubscriber',
         'activeMQPublisher', 'msgCheck'].each { String name ->
            define(name) { Object[] a -> symbol(name, a) }
        }
    }
}
