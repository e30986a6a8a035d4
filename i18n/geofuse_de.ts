<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de">
<context>
    <name>BandMapping</name>
    <message>
        <location filename="../plugin/dock/bands.py" line="37"/>
        <source>Custom</source>
        <translation>Benutzerdefiniert</translation>
    </message>
    <message>
        <location filename="../plugin/dock/bands.py" line="61"/>
        <source>Model band {}</source>
        <translation>Modellkanal {}</translation>
    </message>
</context>
<context>
    <name>ClassAreaSummary</name>
    <message>
        <location filename="../plugin/dock/chart.py" line="131"/>
        <source>Class</source>
        <translation>Klasse</translation>
    </message>
    <message>
        <location filename="../plugin/dock/chart.py" line="131"/>
        <source>Area (m²)</source>
        <translation>Fläche (m²)</translation>
    </message>
    <message>
        <location filename="../plugin/dock/chart.py" line="131"/>
        <source>Share</source>
        <translation>Anteil</translation>
    </message>
    <message>
        <location filename="../plugin/dock/chart.py" line="157"/>
        <source>{} px</source>
        <translation>{} px</translation>
    </message>
</context>
<context>
    <name>DiagnosticsAlgorithm</name>
    <message>
        <location filename="../plugin/algorithms/diagnostics.py" line="44"/>
        <source>Check GeoFuse runtime</source>
        <translation>GeoFuse-Laufzeitumgebung prüfen</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/diagnostics.py" line="48"/>
        <source>Starts the GeoFuse runtime (the separate Python with PyTorch that runs the models) and reports where it is, its Python, PyTorch, rasterio and GDAL versions, whether CUDA is available and each device with its memory. Copy the log into a bug report.</source>
        <translation>Startet die GeoFuse-Laufzeitumgebung (das separate Python mit PyTorch, in dem die Modelle laufen) und berichtet, wo sie liegt, welche Python-, PyTorch-, rasterio- und GDAL-Versionen sie hat, ob CUDA verfügbar ist und welche Geräte mit wie viel Speicher vorhanden sind. Kopieren Sie das Protokoll in einen Fehlerbericht.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/diagnostics.py" line="56"/>
        <source>Diagnostics report</source>
        <translation>Diagnosebericht</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/diagnostics.py" line="57"/>
        <source>Runtime Python</source>
        <translation>Python der Laufzeitumgebung</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/diagnostics.py" line="58"/>
        <source>CUDA available</source>
        <translation>CUDA verfügbar</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/diagnostics.py" line="75"/>
        <source>The GeoFuse runtime is not usable:
{}</source>
        <translation>Die GeoFuse-Laufzeitumgebung ist nicht nutzbar:
{}</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/diagnostics.py" line="59"/>
        <source>Runtime Python version</source>
        <translation>Python-Version der Laufzeitumgebung</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/diagnostics.py" line="60"/>
        <source>PyTorch version</source>
        <translation>PyTorch-Version</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/diagnostics.py" line="61"/>
        <source>Devices (JSON)</source>
        <translation>Geräte (JSON)</translation>
    </message>
</context>
<context>
    <name>EvaluateAlgorithm</name>
    <message>
        <location filename="../plugin/algorithms/evaluate.py" line="50"/>
        <source>Evaluate land cover against ground truth</source>
        <translation>Landbedeckung mit Referenzdaten vergleichen</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/evaluate.py" line="54"/>
        <source>Compares a classified raster (e.g. the output of &apos;Segment land cover&apos;) with a ground-truth raster of the same classes, pixel by pixel, and reports the overall accuracy, precision, recall, F1 and IoU of each class, their means (mF1, mIoU) and the confusion matrix. Ground truth may be class indices or the class colours; nodata pixels are not counted.</source>
        <translation>Vergleicht ein klassifiziertes Raster (z. B. das Ergebnis von „Landbedeckung segmentieren“) Pixel für Pixel mit einem Referenzraster derselben Klassen und berichtet die Gesamtgenauigkeit, Precision, Recall, F1 und IoU jeder Klasse, deren Mittelwerte (mF1, mIoU) und die Konfusionsmatrix. Die Referenz darf Klassenindizes oder Klassenfarben enthalten; NoData-Pixel werden nicht gezählt.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/evaluate.py" line="63"/>
        <source>Classified raster</source>
        <translation>Klassifiziertes Raster</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/evaluate.py" line="64"/>
        <source>Ground-truth raster</source>
        <translation>Referenzraster (Ground Truth)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/evaluate.py" line="65"/>
        <source>Class table (CSV index,name,r,g,b; empty: ISPRS classes)</source>
        <translation>Klassentabelle (CSV index,name,r,g,b; leer: ISPRS-Klassen)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/evaluate.py" line="76"/>
        <source>Leave out pixels this close to a class boundary (ISPRS: 3; 0 = none)</source>
        <translation>Pixel so nah an einer Klassengrenze auslassen (ISPRS: 3; 0 = keine)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/evaluate.py" line="88"/>
        <source>Evaluation report</source>
        <translation>Auswertungsbericht</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/evaluate.py" line="88"/>
        <source>HTML files (*.html)</source>
        <translation>HTML-Dateien (*.html)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/evaluate.py" line="93"/>
        <source>Scores per class</source>
        <translation>Kennzahlen je Klasse</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/evaluate.py" line="98"/>
        <source>Overall accuracy</source>
        <translation>Gesamtgenauigkeit</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/evaluate.py" line="99"/>
        <source>Mean F1</source>
        <translation>Mittlerer F1</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/evaluate.py" line="100"/>
        <source>Mean IoU</source>
        <translation>Mittlere IoU</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/evaluate.py" line="163"/>
        <source>Overall accuracy {}, mean F1 {}, mean IoU {}</source>
        <translation>Gesamtgenauigkeit {}, mittlerer F1 {}, mittlere IoU {}</translation>
    </message>
</context>
<context>
    <name>FinetuneAlgorithm</name>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="116"/>
        <source>Improve model with training polygons</source>
        <translation>Modell mit Trainingspolygonen verbessern</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="120"/>
        <source>Adapts a GeoFuse model to your own imagery from a few polygons you digitised on it, each with a class in the class field (a class name such as building or tree, or a class number of the model). Pixels outside the polygons are not used. A class name the model does not know (for example pool) becomes a new class of the improved model.

The polygons may be in any CRS and any vector format; a layer that is not a file (a memory layer, a selection) is exported for the run. Draw a few polygons per class, inside objects of that class, over the optical layer.

Model: the model to start from (empty: the bundled demo model). Time budget: the run stops after this many minutes or after the given number of steps, whichever comes first. The improved model (.pt) records which model and which polygons it came from; use it in &apos;Segment land cover&apos;. A cancelled or failed run leaves no file behind.

Training runs in the GeoFuse runtime, a separate Python with PyTorch; a GPU helps a lot.</source>
        <translation>Passt ein GeoFuse-Modell an Ihre eigenen Bilddaten an, anhand einiger Polygone, die Sie darauf digitalisiert haben, jedes mit einer Klasse im Klassenfeld (ein Klassenname wie building oder tree oder eine Klassennummer des Modells). Pixel außerhalb der Polygone werden nicht verwendet. Ein Klassenname, den das Modell nicht kennt (zum Beispiel pool), wird zu einer neuen Klasse des verbesserten Modells.

Die Polygone dürfen in jedem KBS und jedem Vektorformat vorliegen; ein Layer, der keine Datei ist (ein temporärer Layer, eine Auswahl), wird für den Lauf exportiert. Zeichnen Sie einige Polygone pro Klasse, innerhalb von Objekten dieser Klasse, über dem optischen Layer.

Modell: das Ausgangsmodell (leer: das mitgelieferte Demo-Modell). Zeitbudget: Der Lauf endet nach so vielen Minuten oder nach der angegebenen Zahl von Schritten, je nachdem, was zuerst eintritt. Das verbesserte Modell (.pt) hält fest, aus welchem Modell und welchen Polygonen es entstanden ist; verwenden Sie es in „Landbedeckung segmentieren“. Ein abgebrochener oder fehlgeschlagener Lauf hinterlässt keine Datei.

Das Training läuft in der GeoFuse-Laufzeitumgebung, einem separaten Python mit PyTorch; eine GPU hilft sehr.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="142"/>
        <source>Optical layer (RGB or IRRG)</source>
        <translation>Optischer Layer (RGB oder IRRG)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="145"/>
        <source>Elevation layer (DSM or nDSM)</source>
        <translation>Höhenlayer (DSM oder nDSM)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="148"/>
        <source>Training polygons</source>
        <translation>Trainingspolygone</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="151"/>
        <source>Class field (class names or class numbers)</source>
        <translation>Klassenfeld (Klassennamen oder Klassennummern)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="159"/>
        <source>Model to improve (GeoFuse checkpoint; empty: bundled demo model)</source>
        <translation>Zu verbesserndes Modell (GeoFuse-Checkpoint; leer: mitgeliefertes Demo-Modell)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="168"/>
        <source>Optical bands, in the model&apos;s order (empty: the first bands)</source>
        <translation>Optische Kanäle in der Reihenfolge des Modells (leer: die ersten Kanäle)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="180"/>
        <source>Time budget (minutes; 0 = only the step count)</source>
        <translation>Zeitbudget (Minuten; 0 = nur die Schrittzahl)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="189"/>
        <source>Training steps (at most)</source>
        <translation>Trainingsschritte (höchstens)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="196"/>
        <source>First steps with the encoders frozen</source>
        <translation>Anfangsschritte mit eingefrorenen Encodern</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="207"/>
        <source>Crops per step</source>
        <translation>Ausschnitte pro Schritt</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="214"/>
        <source>Crop size (pixels)</source>
        <translation>Ausschnittgröße (Pixel)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="221"/>
        <source>Device</source>
        <translation>Gerät</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="222"/>
        <source>Random seed</source>
        <translation>Zufallsstartwert (Seed)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="225"/>
        <source>Improved model</source>
        <translation>Verbessertes Modell</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="225"/>
        <source>GeoFuse checkpoints (*.pt)</source>
        <translation>GeoFuse-Checkpoints (*.pt)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="230"/>
        <source>New classes (comma-separated)</source>
        <translation>Neue Klassen (kommagetrennt)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="247"/>
        <source>The optical and the elevation layer are the same layer; choose two different layers.</source>
        <translation>Optischer Layer und Höhenlayer sind derselbe Layer; wählen Sie zwei verschiedene Layer.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="292"/>
        <source>The improved model would replace the model it starts from; choose another file.</source>
        <translation>Das verbesserte Modell würde das Ausgangsmodell ersetzen; wählen Sie eine andere Datei.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="320"/>
        <source>The model cannot be used: {}</source>
        <translation>Das Modell kann nicht verwendet werden: {}</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="324"/>
        <source>{} optical bands are chosen, but the model {} needs {} ({}).</source>
        <translation>{} optische Kanäle sind gewählt, aber das Modell {} braucht {} ({}).</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="330"/>
        <source>The optical layer {} has {} band(s), but the model {} needs {} ({}).</source>
        <translation>Der optische Layer {} hat {} Kanal/Kanäle, aber das Modell {} braucht {} ({}).</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="350"/>
        <source>The training polygons must be polygons; {} holds {} geometries.</source>
        <translation>Die Trainingspolygone müssen Polygone sein; {} enthält {}-Geometrien.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="358"/>
        <source>The training polygons have no field {}; their fields are: {}.</source>
        <translation>Die Trainingspolygone haben kein Feld {}; ihre Felder sind: {}.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="374"/>
        <source>The training polygons ({}) have no features; digitise some first.</source>
        <translation>Die Trainingspolygone ({}) enthalten keine Objekte; digitalisieren Sie zuerst einige.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="380"/>
        <source>The class field {} is empty in every training polygon; fill in a class for each.</source>
        <translation>Das Klassenfeld {} ist in allen Trainingspolygonen leer; tragen Sie für jedes eine Klasse ein.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="386"/>
        <source>None of the {} training polygons overlaps the optical layer {}.</source>
        <translation>Keines der {} Trainingspolygone überschneidet sich mit dem optischen Layer {}.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="407"/>
        <source>{} is being written by another run; choose another file.</source>
        <translation>{} wird gerade von einem anderen Lauf geschrieben; wählen Sie eine andere Datei.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="434"/>
        <source>Labelled pixels per class: {}</source>
        <translation>Beschriftete Pixel je Klasse: {}</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="447"/>
        <source>New classes: {}</source>
        <translation>Neue Klassen: {}</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="449"/>
        <source>All classes are known to the base model.</source>
        <translation>Alle Klassen sind dem Ausgangsmodell bekannt.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="450"/>
        <source>Improved model written to {} ({} steps).</source>
        <translation>Verbessertes Modell geschrieben nach {} ({} Schritte).</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="256"/>
        <source>Optical bands must be band numbers separated by commas, such as 3,2,1.</source>
        <translation>Optische Kanäle müssen durch Kommas getrennte Kanalnummern sein, etwa 3,2,1.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="440"/>
        <source>{} pixels where polygons of different classes overlap were ignored.</source>
        <translation>{} Pixel, in denen sich Polygone verschiedener Klassen überlappen, wurden ignoriert.</translation>
    </message>
</context>
<context>
    <name>GeoFuseAlgorithm</name>
    <message>
        <location filename="../plugin/algorithms/common.py" line="193"/>
        <source>Land cover</source>
        <translation>Landbedeckung</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/inputs.py" line="101"/>
        <source>Exporting {} to a temporary GeoTIFF</source>
        <translation>{} wird in ein temporäres GeoTIFF exportiert</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/inputs.py" line="115"/>
        <source>Could not export {} to a GeoTIFF (error {}).</source>
        <translation>{} konnte nicht als GeoTIFF exportiert werden (Fehler {}).</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/inputs.py" line="148"/>
        <source>{} has no resolution of its own; export it to a GeoTIFF at the resolution you want first.</source>
        <translation>{} hat keine eigene Auflösung; exportieren Sie den Layer zuerst als GeoTIFF in der gewünschten Auflösung.</translation>
    </message>
</context>
<context>
    <name>GeoFuseDock</name>
    <message>
        <location filename="../plugin/dock/widget.py" line="777"/>
        <source>GeoFuse</source>
        <translation>GeoFuse</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="159"/>
        <source>Open the GeoFuse guide</source>
        <translation>GeoFuse-Anleitung öffnen</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="161"/>
        <source>Segment land cover from an optical and an elevation layer.</source>
        <translation>Landbedeckung aus einem optischen Layer und einem Höhenlayer segmentieren.</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="175"/>
        <source>Optical layer</source>
        <translation>Optischer Layer</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="176"/>
        <source>Band order</source>
        <translation>Kanalreihenfolge</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="177"/>
        <source>Elevation layer</source>
        <translation>Höhenlayer</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="183"/>
        <source>GeoFuse checkpoints (*.pt)</source>
        <translation>GeoFuse-Checkpoints (*.pt)</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="184"/>
        <source>Choose a GeoFuse model</source>
        <translation>GeoFuse-Modell wählen</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="195"/>
        <source>Model</source>
        <translation>Modell</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="203"/>
        <source>Whole intersection of the layers</source>
        <translation>Gesamte Überschneidung der Layer</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="204"/>
        <source>Current map canvas extent</source>
        <translation>Aktuelle Kartenausdehnung</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="205"/>
        <source>Features of a polygon layer</source>
        <translation>Objekte eines Polygonlayers</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="211"/>
        <source>Area</source>
        <translation>Gebiet</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="212"/>
        <source>Polygons</source>
        <translation>Polygone</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="217"/>
        <source>Device</source>
        <translation>Gerät</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="221"/>
        <source>Advanced</source>
        <translation>Erweitert</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="232"/>
        <source>Tile size (pixels)</source>
        <translation>Kachelgröße (Pixel)</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="233"/>
        <source>Tile overlap (pixels)</source>
        <translation>Kachelüberlappung (Pixel)</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="234"/>
        <source>Tiles per batch</source>
        <translation>Kacheln pro Stapel</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="243"/>
        <source>GeoTIFF (*.tif *.tiff)</source>
        <translation>GeoTIFF (*.tif *.tiff)</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="244"/>
        <source>[Save to temporary file]</source>
        <translation>[In temporäre Datei speichern]</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="245"/>
        <source>Also add a confidence layer</source>
        <translation>Auch einen Konfidenzlayer hinzufügen</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="248"/>
        <source>Output</source>
        <translation>Ausgabe</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="258"/>
        <source>Ready</source>
        <translation>Bereit</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="692"/>
        <source>Segment</source>
        <translation>Segmentieren</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="395"/>
        <source>Auto (GPU when available)</source>
        <translation>Automatisch (GPU, wenn verfügbar)</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="396"/>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="421"/>
        <source>This model cannot be used: {}</source>
        <translation>Dieses Modell kann nicht verwendet werden: {}</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="428"/>
        <source>GeoFuse {} ({}), bands {} + elevation, trained at {:g} m/pixel&lt;br&gt;{}</source>
        <translation>GeoFuse {} ({}), Kanäle {} + Höhe, trainiert mit {:g} m/Pixel&lt;br&gt;{}</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="466"/>
        <source>About {} tiles of {} × {} pixels ({} × {} pixels in all)</source>
        <translation>Etwa {} Kacheln zu {} × {} Pixeln (insgesamt {} × {} Pixel)</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="496"/>
        <source>The optical layer has {:.3g} m pixels but the model was trained at {:g} m: expect poor results; resample the layer to the model&apos;s resolution first.</source>
        <translation>Der optische Layer hat {:.3g}-m-Pixel, das Modell wurde aber mit {:g} m trainiert: Rechnen Sie mit schlechten Ergebnissen; resampeln Sie den Layer zuerst auf die Auflösung des Modells.</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="523"/>
        <source>Choose an optical layer and an elevation layer.</source>
        <translation>Wählen Sie einen optischen Layer und einen Höhenlayer.</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="525"/>
        <source>The optical and the elevation layer are the same layer; choose two different layers.</source>
        <translation>Optischer Layer und Höhenlayer sind derselbe Layer; wählen Sie zwei verschiedene Layer.</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="533"/>
        <source>The optical layer and the elevation layer do not overlap.</source>
        <translation>Der optische Layer und der Höhenlayer überschneiden sich nicht.</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="537"/>
        <source>The model cannot be used: {}</source>
        <translation>Das Modell kann nicht verwendet werden: {}</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="539"/>
        <source>The band order does not give the bands the model needs ({}); choose Custom.</source>
        <translation>Die Kanalreihenfolge liefert nicht die Kanäle, die das Modell braucht ({}); wählen Sie „Benutzerdefiniert“.</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="547"/>
        <source>Choose the polygon layer whose features limit the area.</source>
        <translation>Wählen Sie den Polygonlayer, dessen Objekte das Gebiet begrenzen.</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="551"/>
        <source>The chosen area does not overlap the optical layer.</source>
        <translation>Das gewählte Gebiet überschneidet sich nicht mit dem optischen Layer.</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="562"/>
        <source>Land cover ({})</source>
        <translation>Landbedeckung ({})</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="577"/>
        <source>Confidence ({})</source>
        <translation>Konfidenz ({})</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="618"/>
        <source>Cancelling…</source>
        <translation>Wird abgebrochen…</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="633"/>
        <source>GeoFuse: segmenting land cover</source>
        <translation>GeoFuse: Landbedeckung wird segmentiert</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="644"/>
        <source>Starting the GeoFuse runtime…</source>
        <translation>GeoFuse-Laufzeitumgebung wird gestartet…</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="645"/>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="672"/>
        <source>, about {} left</source>
        <translation>, noch etwa {}</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="665"/>
        <source>{} / {} tiles</source>
        <translation>{} / {} Kacheln</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="678"/>
        <source>Starting the GeoFuse runtime… ({})</source>
        <translation>GeoFuse-Laufzeitumgebung wird gestartet… ({})</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="683"/>
        <source>{:.0f} s</source>
        <translation>{:.0f} s</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="684"/>
        <source>{:.0f} min {:.0f} s</source>
        <translation>{:.0f} min {:.0f} s</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="697"/>
        <source>Cancelled</source>
        <translation>Abgebrochen</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="698"/>
        <source>Segmentation cancelled.</source>
        <translation>Segmentierung abgebrochen.</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="700"/>
        <source>Failed</source>
        <translation>Fehlgeschlagen</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="701"/>
        <source>unknown error</source>
        <translation>unbekannter Fehler</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="702"/>
        <source>Segmentation failed: {}</source>
        <translation>Segmentierung fehlgeschlagen: {}</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="706"/>
        <source>Done in {}</source>
        <translation>Fertig in {}</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="710"/>
        <source>Land cover segmented in {} ({} tiles).</source>
        <translation>Landbedeckung in {} segmentiert ({} Kacheln).</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="728"/>
        <source>The output {} could not be loaded.</source>
        <translation>Die Ausgabe {} konnte nicht geladen werden.</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="792"/>
        <source>The GeoFuse Processing provider is not loaded.</source>
        <translation>Der GeoFuse-Processing-Provider ist nicht geladen.</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="227"/>
        <source>Auto</source>
        <translation>Automatisch</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="400"/>
        <source>{}: {}, {} MB</source>
        <translation>{}: {}, {} MB</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="481"/>
        <source>The overlap ({}) must be less than the tile size ({}).</source>
        <translation>Die Überlappung ({}) muss kleiner als die Kachelgröße ({}) sein.</translation>
    </message>
</context>
<context>
    <name>GeoFusePlugin</name>
    <message>
        <location filename="../plugin/geofuse_plugin.py" line="55"/>
        <source>GeoFuse</source>
        <translation>GeoFuse</translation>
    </message>
    <message>
        <location filename="../plugin/geofuse_plugin.py" line="51"/>
        <source>Segment land cover from an optical and an elevation layer</source>
        <translation>Landbedeckung aus einem optischen Layer und einem Höhenlayer segmentieren</translation>
    </message>
    <message>
        <location filename="../plugin/geofuse_plugin.py" line="62"/>
        <source>&amp;GeoFuse</source>
        <translation>&amp;GeoFuse</translation>
    </message>
</context>
<context>
    <name>GeoFuseProvider</name>
    <message>
        <location filename="../plugin/provider.py" line="27"/>
        <source>GeoFuse</source>
        <translation>GeoFuse</translation>
    </message>
    <message>
        <location filename="../plugin/provider.py" line="31"/>
        <source>GeoFuse land-cover segmentation</source>
        <translation>GeoFuse-Landbedeckungssegmentierung</translation>
    </message>
</context>
<context>
    <name>ImprovePanel</name>
    <message>
        <location filename="../plugin/dock/improve.py" line="91"/>
        <source>Improve with my polygons</source>
        <translation>Mit meinen Polygonen verbessern</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="105"/>
        <source>Digitise a few polygons per class over the optical layer, with a class field, to adapt the model to your imagery. A class name the model does not know becomes a new class.</source>
        <translation>Digitalisieren Sie einige Polygone pro Klasse über dem optischen Layer, mit einem Klassenfeld, um das Modell an Ihre Bilddaten anzupassen. Ein Klassenname, den das Modell nicht kennt, wird zu einer neuen Klasse.</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="124"/>
        <source> min</source>
        <translation> min</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="133"/>
        <source>Ready</source>
        <translation>Bereit</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="326"/>
        <source>Improve model</source>
        <translation>Modell verbessern</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="136"/>
        <source>Training polygons</source>
        <translation>Trainingspolygone</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="137"/>
        <source>Class field</source>
        <translation>Klassenfeld</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="138"/>
        <source>Time budget</source>
        <translation>Zeitbudget</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="192"/>
        <source>New classes: {}</source>
        <translation>Neue Klassen: {}</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="194"/>
        <source>All classes known to the model</source>
        <translation>Alle Klassen sind dem Modell bekannt</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="200"/>
        <source>Fine-tuned from {} on {} polygons of {}</source>
        <translation>Nachtrainiert ausgehend von {} mit {} Polygonen aus {}</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="214"/>
        <source>Choose an optical layer and an elevation layer.</source>
        <translation>Wählen Sie einen optischen Layer und einen Höhenlayer.</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="216"/>
        <source>The optical and the elevation layer are the same layer; choose two different layers.</source>
        <translation>Optischer Layer und Höhenlayer sind derselbe Layer; wählen Sie zwei verschiedene Layer.</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="221"/>
        <source>Choose the layer with your training polygons.</source>
        <translation>Wählen Sie den Layer mit Ihren Trainingspolygonen.</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="223"/>
        <source>The layer {} has no polygons yet; digitise a few per class first.</source>
        <translation>Der Layer {} enthält noch keine Polygone; digitalisieren Sie zuerst einige pro Klasse.</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="227"/>
        <source>Choose the field that holds the class of each polygon.</source>
        <translation>Wählen Sie das Feld, das die Klasse jedes Polygons enthält.</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="231"/>
        <source>The model cannot be used: {}</source>
        <translation>Das Modell kann nicht verwendet werden: {}</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="233"/>
        <source>The band order does not give the bands the model needs ({}); choose Custom.</source>
        <translation>Die Kanalreihenfolge liefert nicht die Kanäle, die das Modell braucht ({}); wählen Sie „Benutzerdefiniert“.</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="237"/>
        <source>Wait until the segmentation has finished.</source>
        <translation>Warten Sie, bis die Segmentierung abgeschlossen ist.</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="258"/>
        <source>Cancelling…</source>
        <translation>Wird abgebrochen…</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="276"/>
        <source>GeoFuse: improving the model</source>
        <translation>GeoFuse: Modell wird verbessert</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="291"/>
        <source>Starting the GeoFuse runtime…</source>
        <translation>GeoFuse-Laufzeitumgebung wird gestartet…</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="292"/>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="312"/>
        <source>Step {}</source>
        <translation>Schritt {}</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="318"/>
        <source>Starting the GeoFuse runtime… ({})</source>
        <translation>GeoFuse-Laufzeitumgebung wird gestartet… ({})</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="332"/>
        <source>Cancelled</source>
        <translation>Abgebrochen</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="333"/>
        <source>Improving the model was cancelled.</source>
        <translation>Die Verbesserung des Modells wurde abgebrochen.</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="335"/>
        <source>Failed</source>
        <translation>Fehlgeschlagen</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="336"/>
        <source>unknown error</source>
        <translation>unbekannter Fehler</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="337"/>
        <source>Improving the model failed: {}</source>
        <translation>Die Verbesserung des Modells ist fehlgeschlagen: {}</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="343"/>
        <source>Done in {}</source>
        <translation>Fertig in {}</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="345"/>
        <source>Model improved in {}: {} is now the dock&apos;s model; press Segment.</source>
        <translation>Modell in {} verbessert: {} ist jetzt das Modell des Bedienfelds; klicken Sie auf „Segmentieren“.</translation>
    </message>
</context>
<context>
    <name>InstallRuntimeAlgorithm</name>
    <message>
        <location filename="../plugin/algorithms/install_runtime.py" line="49"/>
        <source>Create GeoFuse runtime</source>
        <translation>GeoFuse-Laufzeitumgebung erstellen</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/install_runtime.py" line="66"/>
        <source>PyTorch build</source>
        <translation>PyTorch-Variante</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/install_runtime.py" line="76"/>
        <source>Python to create the venv from</source>
        <translation>Python, aus dem das venv erstellt wird</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/install_runtime.py" line="76"/>
        <source>All files (*)</source>
        <translation>Alle Dateien (*)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/install_runtime.py" line="88"/>
        <source>Runtime folder (empty: in the QGIS profile)</source>
        <translation>Ordner der Laufzeitumgebung (leer: im QGIS-Profil)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/install_runtime.py" line="98"/>
        <source>Runtime Python</source>
        <translation>Python der Laufzeitumgebung</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/install_runtime.py" line="99"/>
        <source>CUDA available</source>
        <translation>CUDA verfügbar</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/install_runtime.py" line="100"/>
        <source>Diagnostics report</source>
        <translation>Diagnosebericht</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/install_runtime.py" line="108"/>
        <source>No Python to create the runtime from; set &apos;Python to create the venv from&apos;.</source>
        <translation>Kein Python gefunden, aus dem die Laufzeitumgebung erstellt werden kann; setzen Sie „Python, aus dem das venv erstellt wird“.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/install_runtime.py" line="115"/>
        <source>The CUDA build was asked for, but nvidia-smi reports no NVIDIA GPU.</source>
        <translation>Die CUDA-Variante wurde angefordert, aber nvidia-smi meldet keine NVIDIA-GPU.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/install_runtime.py" line="118"/>
        <source>NVIDIA driver supports CUDA {}</source>
        <translation>Der NVIDIA-Treiber unterstützt CUDA {}</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/install_runtime.py" line="118"/>
        <source>No NVIDIA GPU found: CPU build</source>
        <translation>Keine NVIDIA-GPU gefunden: CPU-Variante</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/install_runtime.py" line="151"/>
        <source>PyTorch&apos;s CUDA build is installed but CUDA is not available in it.</source>
        <translation>Die CUDA-Variante von PyTorch ist installiert, aber CUDA ist darin nicht verfügbar.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/install_runtime.py" line="53"/>
        <source>Creates the GeoFuse runtime: a separate Python environment (venv) in your QGIS profile with PyTorch, numpy and rasterio, so that QGIS&apos;s own Python is never modified. Needs internet access and a few GB of disk space. pip&apos;s own configuration (index, extra index, proxy, certificates: pip.conf and PIP_* variables) is used; the PyTorch download index is added as an extra index when it is reachable. The runtime is built in a temporary folder and replaces the old one only once it has passed its self-check.

PyTorch build: &apos;auto&apos; installs the CUDA build when nvidia-smi reports an NVIDIA GPU, otherwise the CPU build. At the end the runtime checks itself and reports whether CUDA works.</source>
        <translation>Erstellt die GeoFuse-Laufzeitumgebung: eine separate Python-Umgebung (venv) in Ihrem QGIS-Profil mit PyTorch, numpy und rasterio, sodass das Python von QGIS selbst nie verändert wird. Benötigt Internetzugang und einige GB Speicherplatz. Die eigene Konfiguration von pip (Index, zusätzlicher Index, Proxy, Zertifikate: pip.conf und PIP_*-Variablen) wird verwendet; der Download-Index von PyTorch wird als zusätzlicher Index hinzugefügt, wenn er erreichbar ist. Die Laufzeitumgebung wird in einem temporären Ordner aufgebaut und ersetzt die alte erst, wenn sie ihre Selbstprüfung bestanden hat.

PyTorch-Variante: „auto“ installiert die CUDA-Variante, wenn nvidia-smi eine NVIDIA-GPU meldet, sonst die CPU-Variante. Am Ende prüft sich die Laufzeitumgebung selbst und meldet, ob CUDA funktioniert.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/install_runtime.py" line="134"/>
        <source>The runtime was built but does not work, so it was not installed:
{}</source>
        <translation>Die Laufzeitumgebung wurde aufgebaut, funktioniert aber nicht und wurde daher nicht installiert:
{}</translation>
    </message>
</context>
<context>
    <name>Labels</name>
    <message>
        <location filename="../plugin/labels.py" line="16"/>
        <source>impervious surfaces</source>
        <translation>Versiegelte Flächen</translation>
    </message>
    <message>
        <location filename="../plugin/labels.py" line="17"/>
        <source>building</source>
        <translation>Gebäude</translation>
    </message>
    <message>
        <location filename="../plugin/labels.py" line="18"/>
        <source>low vegetation</source>
        <translation>Niedrige Vegetation</translation>
    </message>
    <message>
        <location filename="../plugin/labels.py" line="19"/>
        <source>tree</source>
        <translation>Baum</translation>
    </message>
    <message>
        <location filename="../plugin/labels.py" line="20"/>
        <source>car</source>
        <translation>Auto</translation>
    </message>
    <message>
        <location filename="../plugin/labels.py" line="21"/>
        <source>clutter</source>
        <translation>Sonstiges</translation>
    </message>
    <message>
        <location filename="../plugin/labels.py" line="27"/>
        <source>R</source>
        <comment>red band</comment>
        <translation>R</translation>
    </message>
    <message>
        <location filename="../plugin/labels.py" line="28"/>
        <source>G</source>
        <comment>green band</comment>
        <translation>G</translation>
    </message>
    <message>
        <location filename="../plugin/labels.py" line="29"/>
        <source>B</source>
        <comment>blue band</comment>
        <translation>B</translation>
    </message>
    <message>
        <location filename="../plugin/labels.py" line="30"/>
        <source>IR</source>
        <comment>near-infrared band</comment>
        <translation>NIR</translation>
    </message>
</context>
<context>
    <name>Runtime</name>
    <message>
        <location filename="../plugin/runtime.py" line="268"/>
        <source>Creating the runtime venv</source>
        <translation>Erstellen des venv der Laufzeitumgebung</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="274"/>
        <source>Updating pip</source>
        <translation>Aktualisieren von pip</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="294"/>
        <source>Installing PyTorch {version} ({build} build)</source>
        <translation>Installieren von PyTorch {version} ({build}-Build)</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="302"/>
        <source>Installing numpy, rasterio and friends</source>
        <translation>Installieren von numpy, rasterio und weiteren Paketen</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="316"/>
        <source>The disk is full. Free some space (PyTorch needs several GB) and try again.</source>
        <translation>Der Datenträger ist voll. Geben Sie Speicherplatz frei (PyTorch braucht mehrere GB) und versuchen Sie es erneut.</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="344"/>
        <source>No PyTorch {version} build exists for this Python ({python}) or this platform.</source>
        <translation>Für dieses Python ({python}) oder diese Plattform gibt es keinen Build von PyTorch {version}.</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="348"/>
        <source>This Python cannot create venvs; on Debian/Ubuntu install the package python3-venv.</source>
        <translation>Dieses Python kann keine venvs erstellen; installieren Sie unter Debian/Ubuntu das Paket python3-venv.</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="352"/>
        <source>The command exited with code {code}.</source>
        <translation>Der Befehl wurde mit Code {code} beendet.</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="355"/>
        <source>{step} failed. {reason}</source>
        <translation>Fehlgeschlagen: {step}. {reason}</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="356"/>
        <source>Last output:</source>
        <translation>Letzte Ausgabe:</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="442"/>
        <source>{step} failed: cannot run {program} ({error}).</source>
        <translation>Fehlgeschlagen: {step}; {program} kann nicht ausgeführt werden ({error}).</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="448"/>
        <source>Creating the GeoFuse runtime was cancelled.</source>
        <translation>Das Erstellen der GeoFuse-Laufzeitumgebung wurde abgebrochen.</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="175"/>
        <source>{variable} is set to &apos;{path}&apos;, which is not a file. Point it at a Python that has torch, numpy and rasterio, or unset it.</source>
        <translation>{variable} ist auf „{path}“ gesetzt, aber das ist keine Datei. Setzen Sie die Variable auf ein Python mit torch, numpy und rasterio, oder entfernen Sie sie.</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="186"/>
        <source>The GeoFuse runtime set in the plugin settings, &apos;{path}&apos;, does not exist. Choose another Python or clear the setting.</source>
        <translation>Die in den Plugin-Einstellungen gewählte GeoFuse-Laufzeitumgebung „{path}“ existiert nicht. Wählen Sie ein anderes Python, oder leeren Sie die Einstellung.</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="202"/>
        <source>No GeoFuse runtime (a Python with PyTorch, numpy and rasterio) was found. Create one with Set up runtime in the GeoFuse panel or the Processing Toolbox's GeoFuse ▸ Set-up ▸ Create GeoFuse runtime (geofuse:install_runtime), or set the environment variable {variable} to such a Python.</source>
        <translation>Es wurde keine GeoFuse-Laufzeitumgebung (ein Python mit PyTorch, numpy und rasterio) gefunden. Erstellen Sie eine mit „Laufzeitumgebung einrichten“ im GeoFuse-Bedienfeld oder in den Verarbeitungswerkzeugen unter GeoFuse ▸ Einrichtung ▸ GeoFuse-Laufzeitumgebung erstellen (geofuse:install_runtime), oder setzen Sie die Umgebungsvariable {variable} auf ein solches Python.</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="215"/>
        <source>The GeoFuse runtime in {folder} is incomplete — Set up runtime again.</source>
        <translation>Die GeoFuse-Laufzeitumgebung in {folder} ist unvollständig — Laufzeitumgebung erneut einrichten.</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="320"/>
        <source>The secure connection to {hosts} failed (SSL certificate). Behind a company proxy, set PIP_CERT (or cert in pip.conf) to your organisation&apos;s certificate bundle, or ask your IT department.</source>
        <translation>Die sichere Verbindung zu {hosts} ist fehlgeschlagen (SSL-Zertifikat). Setzen Sie hinter einem Firmen-Proxy PIP_CERT (oder cert in pip.conf) auf das Zertifikatsbündel Ihrer Organisation, oder fragen Sie Ihre IT-Abteilung.</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="339"/>
        <source>the package index</source>
        <translation>dem Paketindex</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="335"/>
        <source>Could not reach {failed} (reachable: {reachable}). Check the internet connection, or pip&apos;s proxy setting (HTTPS_PROXY, PIP_PROXY or proxy in pip.conf) if you are behind a proxy.</source>
        <translation>Keine Verbindung zu {failed} (erreichbar: {reachable}). Prüfen Sie die Internetverbindung oder, wenn Sie hinter einem Proxy sind, die Proxy-Einstellung von pip (HTTPS_PROXY, PIP_PROXY oder proxy in pip.conf).</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="339"/>
        <source>none</source>
        <translation>keiner</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="419"/>
        <source>{step}: {done} of {total} MB downloaded</source>
        <translation>{step}: {done} von {total} MB heruntergeladen</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="464"/>
        <source>Adding the PyTorch index {index} as an extra index.</source>
        <translation>Der PyTorch-Index {index} wird als zusätzlicher Index hinzugefügt.</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="470"/>
        <source>The PyTorch index is not reachable ({problem}); looking for torch {version} in pip&apos;s configured indexes only.</source>
        <translation>Der PyTorch-Index ist nicht erreichbar ({problem}); torch {version} wird nur in den für pip konfigurierten Indizes gesucht.</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="487"/>
        <source>{folder} is not empty and not a venv; choose a new or empty folder for it.</source>
        <translation>{folder} ist weder leer noch ein venv; wählen Sie dafür einen neuen oder leeren Ordner.</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="541"/>
        <source>Cannot create the runtime beside {folder}: {error}</source>
        <translation>Die Laufzeitumgebung kann nicht neben {folder} erstellt werden: {error}</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="552"/>
        <source>Checking the new runtime</source>
        <translation>Neue Laufzeitumgebung wird geprüft</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="560"/>
        <source>Cannot put the runtime in place at {folder}: {error}</source>
        <translation>Die Laufzeitumgebung kann nicht nach {folder} verschoben werden: {error}</translation>
    </message>
</context>
<context>
    <name>RuntimePanel</name>
    <message>
        <location filename="../plugin/dock/runtime_panel.py" line="148"/>
        <source>GeoFuse runtime: checking…</source>
        <translation>GeoFuse-Laufzeitumgebung: wird geprüft…</translation>
    </message>
    <message>
        <location filename="../plugin/dock/runtime_panel.py" line="127"/>
        <source>Set up / repair runtime</source>
        <translation>Laufzeitumgebung einrichten / reparieren</translation>
    </message>
    <message>
        <location filename="../plugin/dock/runtime_panel.py" line="130"/>
        <source>Copy diagnostics</source>
        <translation>Diagnose kopieren</translation>
    </message>
    <message>
        <location filename="../plugin/dock/runtime_panel.py" line="188"/>
        <source>Checking the GeoFuse runtime</source>
        <translation>GeoFuse-Laufzeitumgebung wird geprüft</translation>
    </message>
    <message>
        <location filename="../plugin/dock/runtime_panel.py" line="190"/>
        <source>GeoFuse runtime: cannot check ({})</source>
        <translation>GeoFuse-Laufzeitumgebung: Prüfung nicht möglich ({})</translation>
    </message>
    <message>
        <location filename="../plugin/dock/runtime_panel.py" line="204"/>
        <source>GeoFuse runtime: Python {}, torch {}, CUDA: {}</source>
        <translation>GeoFuse-Laufzeitumgebung: Python {}, torch {}, CUDA: {}</translation>
    </message>
    <message>
        <location filename="../plugin/dock/runtime_panel.py" line="204"/>
        <source>yes</source>
        <translation>ja</translation>
    </message>
    <message>
        <location filename="../plugin/dock/runtime_panel.py" line="204"/>
        <source>no</source>
        <translation>nein</translation>
    </message>
    <message>
        <location filename="../plugin/dock/runtime_panel.py" line="212"/>
        <source>Repair runtime</source>
        <translation>Laufzeitumgebung reparieren</translation>
    </message>
    <message>
        <location filename="../plugin/dock/runtime_panel.py" line="216"/>
        <source>the check failed</source>
        <translation>die Prüfung ist fehlgeschlagen</translation>
    </message>
    <message>
        <location filename="../plugin/dock/runtime_panel.py" line="217"/>
        <source>Set up runtime</source>
        <translation>Laufzeitumgebung einrichten</translation>
    </message>
    <message>
        <location filename="../plugin/dock/runtime_panel.py" line="180"/>
        <source>No GeoFuse runtime yet.</source>
        <translation>Noch keine GeoFuse-Laufzeitumgebung.</translation>
    </message>
    <message>
        <location filename="../plugin/dock/runtime_panel.py" line="220"/>
        <source>GeoFuse runtime: incomplete — Set up runtime again.</source>
        <translation>GeoFuse-Laufzeitumgebung: unvollständig — Laufzeitumgebung erneut einrichten.</translation>
    </message>
    <message>
        <location filename="../plugin/dock/runtime_panel.py" line="151"/>
        <source>Looking for the GeoFuse runtime</source>
        <translation>GeoFuse-Laufzeitumgebung wird gesucht</translation>
    </message>
</context>
<context>
    <name>SegmentAlgorithm</name>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="87"/>
        <source>Segment land cover (optical + elevation)</source>
        <translation>Landbedeckung segmentieren (optisch + Höhe)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="91"/>
        <source>Classifies every pixel of the optical layer into land-cover classes (impervious surfaces, building, low vegetation, tree, car, clutter for the bundled model) using the optical layer and an elevation layer (DSM or nDSM) together.

The output has the optical layer&apos;s grid; the elevation is resampled onto it. Layers that are not files (WMS, XYZ, database rasters) are exported to a temporary GeoTIFF first.

Model: a GeoFuse checkpoint (.pt); empty uses the bundled demo model. Optical bands: the band numbers fed to the model, in the model&apos;s band order (empty: the first bands). Tile size and overlap set how the raster is cut into windows; lower them (or the batch size) if memory runs out.

The model runs in the GeoFuse runtime, a separate Python with PyTorch (see &apos;Create GeoFuse runtime&apos;); QGIS itself never loads PyTorch.</source>
        <translation>Ordnet jedes Pixel des optischen Layers einer Landbedeckungsklasse zu (beim mitgelieferten Modell: versiegelte Flächen, Gebäude, niedrige Vegetation, Bäume, Autos, Sonstiges) und nutzt dazu den optischen Layer und einen Höhenlayer (DSM oder nDSM) gemeinsam.

Das Ergebnis hat das Pixelraster des optischen Layers; die Höhe wird darauf umgerechnet. Layer, die keine Dateien sind (WMS, XYZ, Datenbankraster), werden zuerst in ein temporäres GeoTIFF exportiert.

Modell: ein GeoFuse-Checkpoint (.pt); leer verwendet das mitgelieferte Demo-Modell. Optische Kanäle: die Kanalnummern, die dem Modell übergeben werden, in der Kanalreihenfolge des Modells (leer: die ersten Kanäle). Kachelgröße und Überlappung legen fest, wie das Raster in Fenster zerlegt wird; verringern Sie sie (oder die Stapelgröße), wenn der Speicher nicht reicht.

Das Modell läuft in der GeoFuse-Laufzeitumgebung, einem separaten Python mit PyTorch (siehe „GeoFuse-Laufzeitumgebung erstellen“); QGIS selbst lädt PyTorch nie.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="113"/>
        <source>Optical layer (RGB or IRRG)</source>
        <translation>Optischer Layer (RGB oder IRRG)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="116"/>
        <source>Elevation layer (DSM or nDSM)</source>
        <translation>Höhenlayer (DSM oder nDSM)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="119"/>
        <source>Model (GeoFuse checkpoint; empty: bundled demo model)</source>
        <translation>Modell (GeoFuse-Checkpoint; leer: mitgeliefertes Demo-Modell)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="128"/>
        <source>Optical bands, in the model&apos;s order (empty: the first bands)</source>
        <translation>Optische Kanäle in der Reihenfolge des Modells (leer: die ersten Kanäle)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="137"/>
        <source>Device</source>
        <translation>Gerät</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="151"/>
        <source>Tile overlap (pixels)</source>
        <translation>Kachelüberlappung (Pixel)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="161"/>
        <source>Tiles per batch</source>
        <translation>Kacheln pro Stapel</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="176"/>
        <source>Extent (empty: the whole optical layer)</source>
        <translation>Ausdehnung (leer: der gesamte optische Layer)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="191"/>
        <source>Land cover</source>
        <translation>Landbedeckung</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="192"/>
        <source>Confidence</source>
        <translation>Konfidenz</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="197"/>
        <source>Tiles processed</source>
        <translation>Verarbeitete Kacheln</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="198"/>
        <source>Seconds taken</source>
        <translation>Benötigte Sekunden</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="307"/>
        <source>No model given and the bundled demo model is missing ({}).</source>
        <translation>Kein Modell angegeben, und das mitgelieferte Demo-Modell fehlt ({}).</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="382"/>
        <source>{}: {} pixels</source>
        <translation>{}: {} Pixel</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="181"/>
        <source>Area: polygons (pixels outside become nodata; empty: no mask)</source>
        <translation>Gebiet: Polygone (Pixel außerhalb werden NoData; leer: keine Maske)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="199"/>
        <source>Class areas and class table (JSON)</source>
        <translation>Klassenflächen und Klassentabelle (JSON)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="355"/>
        <source>The mask polygons do not overlap the optical layer (or the extent).</source>
        <translation>Die Maskenpolygone überschneiden sich nicht mit dem optischen Layer (oder der Ausdehnung).</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="141"/>
        <source>Tile size (pixels; 0 = the model&apos;s default: 512 or its training crop if larger)</source>
        <translation>Kachelgröße (Pixel; 0 = Vorgabe des Modells: 512 oder seine Trainingsausschnittgröße, falls größer)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="243"/>
        <source>The optical and the elevation layer are the same layer ({}); choose two different layers.</source>
        <translation>Optischer Layer und Höhenlayer sind derselbe Layer ({}); wählen Sie zwei verschiedene Layer.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="250"/>
        <source>The model cannot be used: {}</source>
        <translation>Das Modell kann nicht verwendet werden: {}</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="254"/>
        <source>Optical bands must be band numbers separated by commas, such as 3,2,1.</source>
        <translation>Optische Kanäle müssen durch Kommas getrennte Kanalnummern sein, etwa 3,2,1.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="257"/>
        <source>{} has {} band(s); the model needs {} optical bands ({}).</source>
        <translation>{} hat {} Kanal/Kanäle; das Modell braucht {} optische Kanäle ({}).</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="261"/>
        <source>{} optical band(s) were given; the model needs {} ({}).</source>
        <translation>{} optische(r) Kanal/Kanäle angegeben; das Modell braucht {} ({}).</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="266"/>
        <source>{} has no band {}; it has {} band(s).</source>
        <translation>{} hat keinen Kanal {}; er hat {} Kanal/Kanäle.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="234"/>
        <source>The overlap ({}) must be less than the tile size ({}).</source>
        <translation>Die Überlappung ({}) muss kleiner als die Kachelgröße ({}) sein.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="378"/>
        <source>{}: {} m²</source>
        <translation>{}: {} m²</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="324"/>
        <source>land-cover class</source>
        <translation>Landbedeckungsklasse</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="325"/>
        <source>confidence (max softmax probability)</source>
        <translation>Konfidenz (höchste Softmax-Wahrscheinlichkeit)</translation>
    </message>
</context>
<context>
    <name>SetupAlgorithm</name>
    <message>
        <location filename="../plugin/algorithms/common.py" line="217"/>
        <source>Set-up</source>
        <translation>Einrichtung</translation>
    </message>
</context>
<context>
    <name>TrainAlgorithm</name>
    <message>
        <location filename="../plugin/algorithms/train.py" line="76"/>
        <source>Train land-cover model</source>
        <translation>Landbedeckungsmodell trainieren</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="112"/>
        <source>Optical layers</source>
        <translation>Optische Layer</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="112"/>
        <source>Elevation layers (same order)</source>
        <translation>Höhenlayer (gleiche Reihenfolge)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="112"/>
        <source>Label layers (same order)</source>
        <translation>Label-Layer (gleiche Reihenfolge)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="118"/>
        <source>…or a training folder (optical/, elevation/, labels/)</source>
        <translation>…oder ein Trainingsordner (optical/, elevation/, labels/)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="126"/>
        <source>Validation folder (same layout)</source>
        <translation>Validierungsordner (gleicher Aufbau)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="194"/>
        <source>Model variant</source>
        <translation>Modellvariante</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="203"/>
        <source>Model width</source>
        <translation>Modellbreite</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="208"/>
        <source>Training steps</source>
        <translation>Trainingsschritte</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="211"/>
        <source>Crops per step</source>
        <translation>Ausschnitte pro Schritt</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="214"/>
        <source>Crop size (pixels)</source>
        <translation>Ausschnittgröße (Pixel)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="221"/>
        <source>Learning rate</source>
        <translation>Lernrate</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="228"/>
        <source>Device</source>
        <translation>Gerät</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="229"/>
        <source>Random seed</source>
        <translation>Zufallsstartwert (Seed)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="232"/>
        <source>Training folder</source>
        <translation>Trainingsordner</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="235"/>
        <source>Trained model</source>
        <translation>Trainiertes Modell</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="302"/>
        <source>Give either the layer lists or a training folder, not both.</source>
        <translation>Geben Sie entweder die Layerlisten oder einen Trainingsordner an, nicht beides.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="306"/>
        <source>Give a training folder, or as many optical as elevation and label layers (at least one).</source>
        <translation>Geben Sie einen Trainingsordner an oder gleich viele optische, Höhen- und Label-Layer (mindestens je einen).</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="293"/>
        <source>Model written to {}</source>
        <translation>Modell geschrieben nach {}</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="80"/>
        <source>Trains a GeoFuse model from optical, elevation and label rasters and writes the checkpoint model.pt (usable by &apos;Segment land cover&apos;) into the output folder, with last.pt to resume and metrics.csv.

Give either the three lists of layers (the n-th optical, elevation and label layers belong together and share one pixel grid) or a folder with optical/, elevation/ and labels/ subfolders of same-named GeoTIFFs (and optionally classes.csv). Labels are class indices (255 = ignore) or class colours. Training runs in the GeoFuse runtime; a GPU helps a lot.

ISPRS Vaihingen or Potsdam: choose the dataset and give the folder holding the downloaded archives, as downloaded (zips, read in place) or unpacked in any way. The training tiles of the chosen split are used (benchmark: the contest&apos;s; fusion-papers: the split of the DSM-fusion papers), minus a few validation tiles; the test tiles are left for evaluation. Archives and every label colour are checked before the first step.</source>
        <translation>Trainiert ein GeoFuse-Modell aus optischen, Höhen- und Label-Rastern und schreibt den Checkpoint model.pt (verwendbar in „Landbedeckung segmentieren“) in den Ausgabeordner, dazu last.pt zum Fortsetzen und metrics.csv.

Geben Sie entweder die drei Layerlisten an (der n-te optische, Höhen- und Label-Layer gehören zusammen und teilen sich ein Pixelraster) oder einen Ordner mit den Unterordnern optical/, elevation/ und labels/ mit gleichnamigen GeoTIFFs (und optional classes.csv). Labels sind Klassenindizes (255 = ignorieren) oder Klassenfarben. Das Training läuft in der GeoFuse-Laufzeitumgebung; eine GPU hilft sehr.

ISPRS Vaihingen oder Potsdam: Wählen Sie den Datensatz und geben Sie den Ordner mit den heruntergeladenen Archiven an, so wie heruntergeladen (ZIP-Dateien, direkt gelesen) oder beliebig entpackt. Verwendet werden die Trainingskacheln der gewählten Aufteilung (benchmark: die des Wettbewerbs; fusion-papers: die Aufteilung der Veröffentlichungen zur DSM-Fusion), abzüglich einiger Validierungskacheln; die Testkacheln bleiben für die Auswertung. Die Archive und jede Labelfarbe werden vor dem ersten Schritt geprüft.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="103"/>
        <source>Dataset</source>
        <translation>Datensatz</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="134"/>
        <source>ISPRS download folder (zips or unpacked)</source>
        <translation>ISPRS-Downloadordner (ZIP-Dateien oder entpackt)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="139"/>
        <source>ISPRS split</source>
        <translation>ISPRS-Aufteilung</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="148"/>
        <source>Potsdam optical bands</source>
        <translation>Optische Kanäle (Potsdam)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="157"/>
        <source>Potsdam elevation (DSM or normalised nDSM)</source>
        <translation>Höhe (Potsdam; DSM oder normalisiertes nDSM)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="166"/>
        <source>ISPRS validation tiles, comma-separated (empty: a fixed few)</source>
        <translation>ISPRS-Validierungskacheln, kommagetrennt (leer: einige feste)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="175"/>
        <source>Validate on the eroded ISPRS references</source>
        <translation>Mit den erodierten ISPRS-Referenzen validieren</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="182"/>
        <source>Check archives and every label before training</source>
        <translation>Archive und jedes Label vor dem Training prüfen</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="324"/>
        <source>Give the folder holding the ISPRS download.</source>
        <translation>Geben Sie den Ordner mit dem ISPRS-Download an.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="326"/>
        <source>Give either an ISPRS download or your own rasters (layer lists or folder), not both.</source>
        <translation>Geben Sie entweder einen ISPRS-Download oder eigene Raster (Layerlisten oder Ordner) an, nicht beides.</translation>
    </message>
</context>
<context>
    <name>WorkerClient</name>
    <message>
        <location filename="../plugin/worker_client.py" line="113"/>
        <source>unknown signal</source>
        <translation>unbekanntes Signal</translation>
    </message>
    <message>
        <location filename="../plugin/worker_client.py" line="120"/>
        <source>was killed by signal {number} ({name})</source>
        <translation>wurde durch Signal {number} ({name}) beendet</translation>
    </message>
    <message>
        <location filename="../plugin/worker_client.py" line="125"/>
        <source>crashed ({crash}, exit code {code})</source>
        <translation>ist abgestürzt ({crash}, Exit-Code {code})</translation>
    </message>
    <message>
        <location filename="../plugin/worker_client.py" line="128"/>
        <source>exited with code {code}</source>
        <translation>wurde mit Code {code} beendet</translation>
    </message>
    <message>
        <location filename="../plugin/worker_client.py" line="166"/>
        <source>Cannot start the GeoFuse runtime {python} ({source}): {error}</source>
        <translation>Die GeoFuse-Laufzeitumgebung {python} ({source}) kann nicht gestartet werden: {error}</translation>
    </message>
    <message>
        <location filename="../plugin/worker_client.py" line="198"/>
        <source>Cancelled: the GeoFuse worker was stopped.</source>
        <translation>Abgebrochen: Der GeoFuse-Worker wurde beendet.</translation>
    </message>
    <message>
        <location filename="../plugin/worker_client.py" line="245"/>
        <source>The GeoFuse worker process died: it {exit} before finishing.</source>
        <translation>Der GeoFuse-Worker-Prozess ist ausgefallen: Er {exit}, bevor er fertig war.</translation>
    </message>
    <message>
        <location filename="../plugin/worker_client.py" line="249"/>
        <source>Its last messages:</source>
        <translation>Seine letzten Meldungen:</translation>
    </message>
    <message>
        <location filename="../plugin/worker_client.py" line="257"/>
        <source>Cancelled.</source>
        <translation>Abgebrochen.</translation>
    </message>
    <message>
        <location filename="../plugin/worker_client.py" line="317"/>
        <source>about {seconds} s left</source>
        <translation>noch etwa {seconds} s</translation>
    </message>
    <message>
        <location filename="../plugin/worker_client.py" line="321"/>
        <source>about {minutes} min left</source>
        <translation>noch etwa {minutes} min</translation>
    </message>
    <message>
        <location filename="../plugin/worker_client.py" line="115"/>
        <source>was killed by signal {number} ({name}) (the system may have run out of memory, or the process was killed)</source>
        <translation>wurde durch Signal {number} ({name}) beendet (möglicherweise war der Arbeitsspeicher erschöpft, oder der Prozess wurde von außen beendet)</translation>
    </message>
</context>
</TS>
