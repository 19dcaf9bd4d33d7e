// Why LoRA plateaus on examples/base-model: run with ./attune shell FILE from the repository root (one run each,
// 2026-12-02, commit cdeea9d's examples code, the shared 2-core machine). Outputs are in lora-ceiling.txt.

// 1. memorising two QA pairs: LoRA (5e-3) against full fine-tuning (5e-4), 40 steps
import dev.attune.examples.common.Tuning;
var p = Pretrained.load(Path.of("examples/base-model"));
var pairs = List.of(new Tuning.Pair("Context: Bram was born in 1996.\nQuestion: When was Bram born?\nAnswer:", " 1996"), new Tuning.Pair("Context: Ana was born in 1971.\nQuestion: When was Ana born?\nAnswer:", " 1971"));
var peft = Tuning.lora(p.model(), 7);
System.out.println("before " + Tuning.lineLoss(peft, p.tokenizer(), pairs, 1));
Tuning.trainLines(peft, p.tokenizer(), pairs, new Tuning.Settings(40, 2, 5e-3, 7, false));
System.out.println("after lora " + Tuning.lineLoss(peft, p.tokenizer(), pairs, 1));
var q = Pretrained.load(Path.of("examples/base-model"));
var full = dev.attune.core.train.Trainable.of(q.model());
System.out.println("before full " + Tuning.lineLoss(full, q.tokenizer(), pairs, 1));
Tuning.trainLines(full, q.tokenizer(), pairs, new Tuning.Settings(40, 2, 5e-4, 7, false));
System.out.println("after full " + Tuning.lineLoss(full, q.tokenizer(), pairs, 1));

// 2. LoRA at higher learning rates, and for 120 steps
var pairs = List.of(new Tuning.Pair("Context: Bram was born in 1996.\nQuestion: When was Bram born?\nAnswer:", " 1996"), new Tuning.Pair("Context: Ana was born in 1971.\nQuestion: When was Ana born?\nAnswer:", " 1971"));
for (double lr : new double[] {1e-2, 3e-2}) { var q = Pretrained.load(Path.of("examples/base-model")); var peft = Tuning.lora(q.model(), 7); Tuning.trainLines(peft, q.tokenizer(), pairs, new Tuning.Settings(40, 2, lr, 7, false)); System.out.println("lora lr " + lr + " after " + Tuning.lineLoss(peft, q.tokenizer(), pairs, 1)); }
var q = Pretrained.load(Path.of("examples/base-model"));
var peft = dev.attune.finetune.peft.Peft.lora().rank(8).alpha(16).targets("c_attn", "c_proj", "c_fc").build().apply(q.model(), 7);
Tuning.trainLines(peft, q.tokenizer(), pairs, new Tuning.Settings(120, 2, 5e-3, 7, false)); System.out.println("lora 5e-3 120 steps after " + Tuning.lineLoss(peft, q.tokenizer(), pairs, 1));

// 3. the base model's output embeddings and final LayerNorm
p = Pretrained.load(Path.of("examples/base-model"));
var wte = p.model().parameter("wte.weight");
var g = p.model().parameter("ln_f.weight");
System.out.println("ln_f gamma mean abs " + g.amean(0) + " max " + g.amax(0));
var norms = wte.norm2(1);
System.out.println("wte row norms: mean " + norms.meanNumber() + " min " + norms.minNumber() + " max " + norms.maxNumber());
for (String w : new String[] {" the", "\n", " good", " bad", " normal", " 19", " chess", " teacher", " revenue", ","}) { int[] ids = p.tokenizer().encode(w); System.out.println("'" + w.replace("\n","\\n") + "' " + java.util.Arrays.toString(ids) + " norm " + norms.getDouble(ids[0])); }
/exit
