// Which base modules LoRA needs beside it on examples/base-model: run with ./attune shell FILE from the repository root
// (2026-12-02, commit c231b9d's jar, the shared 2-core machine at load average 7-18; one run each). Output: modules-to-save.txt.
// Plus: a Trainable over a LoRA PeftModel and some base tensors (the experiment's version of finetune.peft.AdapterWithBaseModules).
import dev.attune.examples.common.Tuning;
import dev.attune.core.train.*;
import dev.attune.core.model.*;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.indexing.NDArrayIndex;
class Plus implements Trainable {
  final Trainable a; final GptModel m; final List<String> names; final INDArray p, g; final List<TrainableTensor> ts = new ArrayList<>(); final long al;
  Plus(Trainable a, GptModel m, List<String> names) { this.a=a; this.m=m; this.names=names; al=a.parameters().length(); long n=al; for (String s: names) n+=m.parameter(s).length(); p=Nd4j.create(DataType.FLOAT,n); g=Nd4j.create(DataType.FLOAT,n); p.get(NDArrayIndex.interval(0,al)).assign(a.parameters()); ts.addAll(a.tensors()); long off=al; for (String s: names){ long len=m.parameter(s).length(); p.get(NDArrayIndex.interval(off,off+len)).assign(m.parameter(s).reshape(len)); ts.add(new TrainableTensor(s, m.parameter(s).shape(), off)); off+=len;} m.unfreeze(); }
  void push(){ a.parameters().assign(p.get(NDArrayIndex.interval(0,al))); long off=al; for (String s: names){ INDArray t=m.parameter(s); long len=t.length(); t.assign(p.get(NDArrayIndex.interval(off,off+len)).reshape(t.shape())); off+=len;} }
  public List<TrainableTensor> tensors(){return ts;} public INDArray parameters(){return p;} public INDArray gradients(){return g;}
  public double forwardBackward(TokenBatch b, double d, boolean acc, long seed){ push(); double l=a.forwardBackward(b,d,acc,seed); g.get(NDArrayIndex.interval(0,al)).assign(a.gradients()); long off=al; for (String s: names){ INDArray t=m.gradient(s); long len=t.length(); g.get(NDArrayIndex.interval(off,off+len)).assign(t.reshape(len)); off+=len;} return l; }
  public double loss(TokenBatch b){ push(); return a.loss(b);} public int contextLength(){return a.contextLength();}
  public void save(java.nio.file.Path d){} public void load(java.nio.file.Path d){}
}

// 1. memorising two QA pairs, 40 steps (as lora-ceiling.jsh in ../2026-12-02-examples/: LoRA alone 2.23, full fine-tuning 1.30)
var pairs = List.of(new Tuning.Pair("Context: Bram was born in 1996.\nQuestion: When was Bram born?\nAnswer:", " 1996"), new Tuning.Pair("Context: Ana was born in 1971.\nQuestion: When was Ana born?\nAnswer:", " 1971"));
List<String> lnf = List.of("ln_f.weight","ln_f.bias");
List<String> lnAll = new ArrayList<>(); for (int l=0;l<4;l++){ for (String k: new String[]{"ln_1","ln_2"}) { lnAll.add("h."+l+"."+k+".weight"); lnAll.add("h."+l+"."+k+".bias"); } } lnAll.addAll(lnf);
for (var names : List.of(lnf, lnAll, List.of("wte.weight"))) { var q = Pretrained.load(Path.of("examples/base-model")); var peft = Tuning.lora(q.model(), 7); var t = new Plus(peft, q.model(), names); long t0=System.nanoTime(); Tuning.trainLines(t, q.tokenizer(), pairs, new Tuning.Settings(40, 2, 5e-3, 7, false)); System.out.println(names.size()+" names, trainable "+t.parameters().length()+": after " + Tuning.lineLoss(t, q.tokenizer(), pairs, 1) + " " + (System.nanoTime()-t0)/1e9+" s"); }
for (double lr : new double[]{2e-2}) { var q = Pretrained.load(Path.of("examples/base-model")); var peft = Tuning.lora(q.model(), 7); var t = new Plus(peft, q.model(), lnAll); Tuning.trainLines(t, q.tokenizer(), pairs, new Tuning.Settings(40, 2, lr, 7, false)); System.out.println("lnAll lr "+lr+": after " + Tuning.lineLoss(t, q.tokenizer(), pairs, 1)); }

// 2. question answering: 600 training items, 100 steps of 16, the first 40 test items (a separate ./attune shell run)
import dev.attune.prompting.metrics.Squad;
var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
List<String[]> read(String f) throws Exception { List<String[]> out = new ArrayList<>(); for (String line : java.nio.file.Files.readAllLines(Path.of(f))) { var n = mapper.readTree(line); out.add(new String[]{n.get("context").asText(), n.get("question").asText(), n.get("answer").asText()}); } return out; }
var train = read("examples/data/qa/train.jsonl"); var test = read("examples/data/qa/test.jsonl").subList(0, 40);
String prompt(String[] i) { return "Context: " + i[0] + "\nQuestion: " + i[1] + "\nAnswer:"; }
List<Tuning.Pair> pairs(List<String[]> items) { return items.stream().map(i -> new Tuning.Pair(prompt(i), " " + i[2])).toList(); }
void eval(String label, Pretrained q, Trainable t, long t0) { var ans = Tuning.complete(q.model(), q.tokenizer(), test.stream().map(i -> prompt(i)).toList(), 8, "\n"); double em=0,f1=0; for (int i=0;i<test.size();i++){ em+=Squad.exactMatch(ans.get(i), List.of(test.get(i)[2])); f1+=Squad.f1(ans.get(i), List.of(test.get(i)[2])); } System.out.println(label + ": EM " + em/test.size() + " F1 " + f1/test.size() + " loss " + Tuning.lineLoss(t, q.tokenizer(), pairs(test), 2) + " trainable " + t.parameters().length() + " " + (System.nanoTime()-t0)/1e9 + " s; " + ans.subList(0,4) + " gold " + test.get(0)[2] + "," + test.get(1)[2] + "," + test.get(2)[2] + "," + test.get(3)[2]); }
List<String> lnAll = new ArrayList<>(); for (int l=0;l<4;l++){ for (String k: new String[]{"ln_1","ln_2"}) { lnAll.add("h."+l+"."+k+".weight"); lnAll.add("h."+l+"."+k+".bias"); } } lnAll.add("ln_f.weight"); lnAll.add("ln_f.bias");
var steps = Integer.parseInt(System.getProperty("steps", "100"));
{ var q = Pretrained.load(Path.of("examples/base-model")); long t0=System.nanoTime(); var t = Trainable.of(q.model()); Tuning.trainLines(t, q.tokenizer(), pairs(train), new Tuning.Settings(steps, 16, 1e-3, 7, false)); eval("full 1e-3", q, t, t0); }
{ var q = Pretrained.load(Path.of("examples/base-model")); long t0=System.nanoTime(); var t = new Plus(Tuning.lora(q.model(), 7), q.model(), List.of("wte.weight")); Tuning.trainLines(t, q.tokenizer(), pairs(train), new Tuning.Settings(steps, 16, 5e-3, 7, false)); eval("lora+wte 5e-3", q, t, t0); }
/exit
