// attune shell: the imports a session starts with (JShell's DEFAULT imports come first).
import java.nio.file.*;
import java.util.*;
import dev.attune.core.checkpoint.*;
import dev.attune.core.config.*;
import dev.attune.core.data.*;
import dev.attune.core.generate.*;
import dev.attune.core.model.*;
import dev.attune.core.tokenizer.*;
import dev.attune.core.train.*;
import dev.attune.prompting.metrics.*;
import dev.attune.prompting.scoring.*;
import dev.attune.prompting.template.*;
import dev.attune.examples.common.*;
