/*
 * Compiles every Groovy source of the library, the way Jenkins would load it, and reports each file's
 * errors as JSON on stdout:
 *   groovy CompileAll.groovy <jenkins dir> [file ...]
 *   -> {"files": [{"file": "vars/cvpEvent.groovy", "errors": [{"line": 3, "column": 5, "message": "..."}]}]}
 * The files are given by the caller (so nothing is skipped silently); paths are relative to <jenkins dir>.
 * The files under src/ compile together (they refer to one another), those under test/ together on
 * top of them, and every other file (vars steps, Jenkinsfiles) alone with the classes of src/ on its
 * classpath, so an error in src/ is reported against its own file. Compiling to class files catches
 * syntax errors and unresolved classes; pipeline steps are plain method calls to Groovy, so a
 * Jenkinsfile compiles without Jenkins (VarsTest.groovy runs them with stand-in steps).
 */
import groovy.json.JsonOutput
import org.codehaus.groovy.control.CompilationUnit
import org.codehaus.groovy.control.CompilerConfiguration
import org.codehaus.groovy.control.MultipleCompilationErrorsException
import org.codehaus.groovy.control.Phases
import org.codehaus.groovy.control.messages.ExceptionMessage
import org.codehaus.groovy.control.messages.SyntaxErrorMessage

if (args.length < 1) {
    System.err.println('usage: CompileAll.groovy <jenkins dir> [file ...]')
    System.exit(2)
}
File root = new File(args[0]).canonicalFile
List<String> files = args.length > 1 ? (args[1..-1] as List<String>) : []
File out = File.createTempDir('cvp-groovyc', '')   // removed at the end (deleteOnExit cannot remove a full directory)

Map<String, List<Map>> errors = new LinkedHashMap<String, List<Map>>()
files.each { errors[it] = [] }

String relative(File root, String path) {
    String p = new File(path.startsWith('file:') ? new URI(path).path : path).canonicalPath
    return p.startsWith(root.path + File.separator) ? p.substring(root.path.length() + 1) : path
}

/** Compiles the files as one unit; records errors against each file. */
def compile = { List<String> unitFiles, List<String> classpath ->
    if (unitFiles.isEmpty()) {
        return
    }
    CompilerConfiguration config = new CompilerConfiguration()
    config.targetDirectory = out
    config.classpathList = classpath
    config.sourceEncoding = 'UTF-8'
    CompilationUnit unit = new CompilationUnit(config, null, new GroovyClassLoader(CompilerConfiguration.getClassLoader(), config))
    unitFiles.each { unit.addSource(new File(root, it)) }
    try {
        unit.compile(Phases.OUTPUT)
    } catch (MultipleCompilationErrorsException e) {
        e.errorCollector.errors.each { msg ->
            String file = null
            Map entry
            if (msg instanceof SyntaxErrorMessage) {
                def cause = msg.cause
                file = relative(root, cause.sourceLocator ?: '')
                entry = [line: cause.line, column: cause.startColumn, message: cause.originalMessage]
            } else if (msg instanceof ExceptionMessage) {
                entry = [line: 0, column: 0, message: msg.cause.toString()]
            } else {
                StringWriter w = new StringWriter()
                msg.write(new PrintWriter(w))
                entry = [line: 0, column: 0, message: w.toString().trim()]
            }
            String key = file != null && errors.containsKey(file) ? file : (unitFiles.size() == 1 ? unitFiles[0] : unitFiles.join(', '))
            errors.computeIfAbsent(key) { [] } << entry
        }
    } catch (Exception e) {
        errors.computeIfAbsent(unitFiles.size() == 1 ? unitFiles[0] : unitFiles.join(', ')) { [] } << [line: 0, column: 0, message: e.toString()]
    }
}

List<String> src = files.findAll { it.startsWith('src/') }
List<String> tests = files.findAll { it.startsWith('test/') }
List<String> single = files - src - tests
try {
    compile(src, [])
    String classes = out.path
    compile(tests, [classes])
    single.each { compile([it], [classes]) }
} finally {
    out.deleteDir()
}

println JsonOutput.toJson([files: errors.collect { k, v -> [file: k, errors: v] }])
