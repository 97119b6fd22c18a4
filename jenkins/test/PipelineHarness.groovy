import groovy.json.JsonSlurper
import org.codehaus.groovy.runtime.InvokerHelper

/**
 * Runs the library's vars steps and the pipelines under plain Groovy, with the pipeline steps they call
 * supplied by this binding and every call recorded:
 *   echo, error (throws PipelineError), readJSON (JsonSlurper; text: or file:), build (answers with
 *   onBuild), properties, parameters, string/text/booleanParam, pipelineTriggers, node, stage, library;
 *   and env, params, currentBuild as maps.
 * The JMS Messaging plugin's steps and describables (sendCIMessage, waitForCIMessage, ciBuildTrigger,
 * activeMQSubscriber, activeMQPublisher) are strict: their parameter names and shapes are checked
 * against test/binding/jms-plugin-steps.json (generated from the plugin's source) for the plugin
 * major this harness stands for (`jmsMajor`, '1' or '2'); anything Jenkins would refuse fails the
 * test as a BindingError. `msgCheck` is not defined: it exists only in Job DSL.
 * Each vars/<name>.groovy is bound as <name>(...), calling its call(...), as Jenkins does.
 * Compiled scripts are cached per JVM: one harness per test case is cheap.
 */
class PipelineHarness {
    private static final Map<String, Class> COMPILED = [:]
    /** Harnesses created since the runner last cleared this (to collect what each test case sent). */
    static final List<PipelineHarness> lastCreated = []
    private static GroovyClassLoader loader
    private static Map BINDING
    /** Plugin calls seen by any harness, as "<major>:<name>", for the coverage check. */
    static final Set<String> pluginCallsSeen = new TreeSet<String>()
    /** What waitForCIMessage returns next (the message text), or a closure of its arguments. */
    Object onWait = null

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

    /** The JMS Messaging plugin major the binding stands for: '1' (1.1.x) or '2' (2.0.x). */
    String jmsMajor = '2'

    PipelineHarness(File root, String jmsMajor = '2') {
        this.root = root
        this.jmsMajor = jmsMajor
        if (BINDING == null) {
            BINDING = (Map) new JsonSlurper().parse(new File(root, 'test/binding/jms-plugin-steps.json'))
        }
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
            Map o = bind('sendCIMessage', a)
            Map m
            if (jmsMajor == '1') {
                m = [api: 'v1', providerName: o.providerName, messageType: o.messageType, topic: o.overrides?.topic, properties: o.messageProperties, content: o.messageContent, failOnError: o.failOnError]
            } else {
                Map pd = (Map) o.providerData
                m = [api: 'v2', providerName: pd.name, messageType: null, topic: pd.overrides?.topic, properties: pd.messageProperties, content: pd.messageContent, failOnError: pd.failOnError]
            }
            sent << m
            allSent << m
            return [messageId: "ID:harness-${sent.size()}".toString(), messageContent: m.content]
        }
        define('waitForCIMessage') { Object[] a ->
            Map o = bind('waitForCIMessage', a)
            return onWait instanceof Closure ? ((Closure) onWait).call(o) : onWait
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
        ['parameters', 'pipelineTriggers', 'string', 'text', 'booleanParam'].each { String name ->
            define(name) { Object[] a -> symbol(name, a) }
        }
        ['ciBuildTrigger', 'activeMQSubscriber', 'activeMQPublisher'].each { String name ->
            define(name) { Object[] a -> bind(name, a) }
        }
    }

    // ----------------------------------------------------------------------- strict plugin binding

    private Map table() {
        Map major = (Map) ((Map) BINDING.majors)[jmsMajor]
        if (major == null) {
            throw new BindingError("no JMS Messaging ${jmsMajor}.x in the binding table")
        }
        return major
    }

    /**
     * The arguments of a plugin step or symbol as DescribableModel binds them: named, or one
     * positional argument when there is one parameter. Returns [$symbol: name] + the arguments.
     */
    private Map bind(String name, Object[] a) {
        pluginCallsSeen << "${jmsMajor}:${name}".toString()
        Map spec = (Map) ((Map) table().describables)[name]
        if (spec == null) {
            throw new BindingError("${name}(...) does not exist in JMS Messaging ${jmsMajor}.x (${table().tag})")
        }
        Map params = (Map) spec.parameters
        Map args
        if (a.length == 0) {
            args = [:]
        } else if (a.length == 1 && a[0] instanceof Map && !((Map) a[0]).containsKey('$symbol')) {
            args = (Map) a[0]
        } else if (a.length == 1 && params.size() == 1) {
            args = [(params.keySet().iterator().next()): a[0]]
        } else {
            throw new BindingError("${name}: positional arguments ${a.toList()}, but ${spec.class} of JMS Messaging ${jmsMajor}.x takes named ones: ${params.keySet()}")
        }
        args.each { k, v ->
            String type = params[k]
            if (type == null) {
                throw new BindingError("${name}: no parameter '${k}' in ${spec.class} of JMS Messaging ${jmsMajor}.x (${table().tag}); it takes ${params.keySet()}")
            }
            checkType("${name}.${k}", type, v, name)
        }
        return [$symbol: name] + args
    }

    private void checkMap(String where, String describable, Object v) {
        if (!(v instanceof Map) || ((Map) v).containsKey('$symbol')) {
            throw new BindingError("${where}: expected a map of ${describable} parameters, got ${v}")
        }
        Map params = (Map) ((Map) ((Map) table().describables)[describable]).parameters
        ((Map) v).each { k, x ->
            if (!params.containsKey(k)) {
                throw new BindingError("${where}: no parameter '${k}' in ${describable} of JMS Messaging ${jmsMajor}.x; it takes ${params.keySet()}")
            }
            checkType("${where}.${k}", (String) params[k], x, describable)
        }
    }

    private void checkType(String where, String type, Object v, String owner) {
        switch (type) {
            case 'String':
                if (v != null && !(v instanceof CharSequence)) throw new BindingError("${where}: expected a String, got ${v?.getClass()?.simpleName}")
                return
            case 'Boolean':
            case 'boolean':
                if (!(v instanceof Boolean)) throw new BindingError("${where}: expected true or false, got ${v}")
                return
            case 'Integer':
                if (!(v instanceof Integer || v instanceof Long)) throw new BindingError("${where}: expected a whole number, got ${v}")
                return
            case 'MESSAGE_TYPE':
                if (!((List) table().MESSAGE_TYPE).contains(v?.toString())) throw new BindingError("${where}: '${v}' is not a MESSAGE_TYPE of JMS Messaging ${jmsMajor}.x")
                return
            case 'MessagingProviderOverrides':
                checkMap(where, 'MessagingProviderOverrides', v)
                return
            case 'List<MsgCheck>':
                if (!(v instanceof List)) throw new BindingError("${where}: expected a list of [field:, expectedValue:] maps, got ${v}")
                ((List) v).eachWithIndex { Object c, int i -> checkMap("${where}[${i}]", 'MsgCheck', c) }
                return
            case 'ProviderData':
                checkProvider(where, v, owner)
                return
            case 'List<ProviderData>':
                if (!(v instanceof List)) throw new BindingError("${where}: expected a list of providers, got ${v}")
                ((List) v).eachWithIndex { Object p, int i -> checkProvider("${where}[${i}]", p, owner) }
                return
            case 'List<ProviderDataEnvelope>':
                if (!(v instanceof List)) throw new BindingError("${where}: expected a list of [providerData: ...] maps, got ${v}")
                ((List) v).eachWithIndex { Object p, int i -> checkMap("${where}[${i}]", 'ProviderDataEnvelope', p) }
                return
            default:
                throw new BindingError("${where}: the binding check does not know the type ${type}")
        }
    }

    /** A provider-data symbol, and the right kind: a publisher to send, a subscriber to listen. */
    private static void checkProvider(String where, Object v, String owner) {
        if (!(v instanceof Map) || !(((Map) v).$symbol in ['activeMQSubscriber', 'activeMQPublisher'])) {
            throw new BindingError("${where}: expected activeMQSubscriber(...) or activeMQPublisher(...), got ${v}")
        }
        String wanted = owner == 'sendCIMessage' ? 'activeMQPublisher' : owner in ['ciBuildTrigger', 'waitForCIMessage', 'ProviderDataEnvelope'] ? 'activeMQSubscriber' : null
        if (wanted != null && ((Map) v).$symbol != wanted) {
            throw new BindingError("${where}: ${owner} needs ${wanted}(...), got ${((Map) v).$symbol}(...)")
        }
    }
}
