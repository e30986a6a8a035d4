<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="fr">
<context>
    <name>BandMapping</name>
    <message>
        <location filename="../plugin/dock/bands.py" line="37"/>
        <source>Custom</source>
        <translation>Personnalisé</translation>
    </message>
    <message>
        <location filename="../plugin/dock/bands.py" line="61"/>
        <source>Model band {}</source>
        <translation>Bande du modèle {}</translation>
    </message>
</context>
<context>
    <name>ClassAreaSummary</name>
    <message>
        <location filename="../plugin/dock/chart.py" line="131"/>
        <source>Class</source>
        <translation>Classe</translation>
    </message>
    <message>
        <location filename="../plugin/dock/chart.py" line="131"/>
        <source>Area (m²)</source>
        <translation>Surface (m²)</translation>
    </message>
    <message>
        <location filename="../plugin/dock/chart.py" line="131"/>
        <source>Share</source>
        <translation>Part</translation>
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
        <translation>Vérifier l'environnement d'exécution GeoFuse</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/diagnostics.py" line="48"/>
        <source>Starts the GeoFuse runtime (the separate Python with PyTorch that runs the models) and reports where it is, its Python, PyTorch, rasterio and GDAL versions, whether CUDA is available and each device with its memory. Copy the log into a bug report.</source>
        <translation>Démarre l'environnement d'exécution GeoFuse (le Python séparé, avec PyTorch, qui exécute les modèles) et indique où il se trouve, ses versions de Python, PyTorch, rasterio et GDAL, si CUDA est disponible ainsi que chaque périphérique et sa mémoire. Copiez le journal dans un rapport de bogue.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/diagnostics.py" line="56"/>
        <source>Diagnostics report</source>
        <translation>Rapport de diagnostic</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/diagnostics.py" line="57"/>
        <source>Runtime Python</source>
        <translation>Python de l'environnement d'exécution</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/diagnostics.py" line="58"/>
        <source>CUDA available</source>
        <translation>CUDA disponible</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/diagnostics.py" line="75"/>
        <source>The GeoFuse runtime is not usable:
{}</source>
        <translation>L'environnement d'exécution GeoFuse n'est pas utilisable :
{}</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/diagnostics.py" line="59"/>
        <source>Runtime Python version</source>
        <translation>Version de Python de l'environnement d'exécution</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/diagnostics.py" line="60"/>
        <source>PyTorch version</source>
        <translation>Version de PyTorch</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/diagnostics.py" line="61"/>
        <source>Devices (JSON)</source>
        <translation>Périphériques (JSON)</translation>
    </message>
</context>
<context>
    <name>EvaluateAlgorithm</name>
    <message>
        <location filename="../plugin/algorithms/evaluate.py" line="50"/>
        <source>Evaluate land cover against ground truth</source>
        <translation>Évaluer l’occupation du sol par rapport à la vérité terrain</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/evaluate.py" line="54"/>
        <source>Compares a classified raster (e.g. the output of &apos;Segment land cover&apos;) with a ground-truth raster of the same classes, pixel by pixel, and reports the overall accuracy, precision, recall, F1 and IoU of each class, their means (mF1, mIoU) and the confusion matrix. Ground truth may be class indices or the class colours; nodata pixels are not counted.</source>
        <translation>Compare pixel par pixel un raster classifié (par exemple le résultat de « Segmenter l’occupation du sol ») avec un raster de vérité terrain des mêmes classes, et indique la précision globale, la précision, le rappel, le F1 et l’IoU de chaque classe, leurs moyennes (mF1, mIoU) et la matrice de confusion. La vérité terrain peut contenir des indices de classe ou les couleurs des classes ; les pixels sans donnée (nodata) ne sont pas comptés.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/evaluate.py" line="63"/>
        <source>Classified raster</source>
        <translation>Raster classifié</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/evaluate.py" line="64"/>
        <source>Ground-truth raster</source>
        <translation>Raster de vérité terrain</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/evaluate.py" line="65"/>
        <source>Class table (CSV index,name,r,g,b; empty: ISPRS classes)</source>
        <translation>Table des classes (CSV index,name,r,g,b ; vide : classes ISPRS)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/evaluate.py" line="76"/>
        <source>Leave out pixels this close to a class boundary (ISPRS: 3; 0 = none)</source>
        <translation>Exclure les pixels à cette distance d’une limite de classe (ISPRS : 3 ; 0 = aucun)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/evaluate.py" line="88"/>
        <source>Evaluation report</source>
        <translation>Rapport d'évaluation</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/evaluate.py" line="88"/>
        <source>HTML files (*.html)</source>
        <translation>Fichiers HTML (*.html)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/evaluate.py" line="93"/>
        <source>Scores per class</source>
        <translation>Scores par classe</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/evaluate.py" line="98"/>
        <source>Overall accuracy</source>
        <translation>Précision globale</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/evaluate.py" line="99"/>
        <source>Mean F1</source>
        <translation>F1 moyen</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/evaluate.py" line="100"/>
        <source>Mean IoU</source>
        <translation>IoU moyenne</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/evaluate.py" line="163"/>
        <source>Overall accuracy {}, mean F1 {}, mean IoU {}</source>
        <translation>Précision globale {}, F1 moyen {}, IoU moyenne {}</translation>
    </message>
</context>
<context>
    <name>FinetuneAlgorithm</name>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="116"/>
        <source>Improve model with training polygons</source>
        <translation>Améliorer le modèle avec des polygones d’entraînement</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="120"/>
        <source>Adapts a GeoFuse model to your own imagery from a few polygons you digitised on it, each with a class in the class field (a class name such as building or tree, or a class number of the model). Pixels outside the polygons are not used. A class name the model does not know (for example pool) becomes a new class of the improved model.

The polygons may be in any CRS and any vector format; a layer that is not a file (a memory layer, a selection) is exported for the run. Draw a few polygons per class, inside objects of that class, over the optical layer.

Model: the model to start from (empty: the bundled demo model). Time budget: the run stops after this many minutes or after the given number of steps, whichever comes first. The improved model (.pt) records which model and which polygons it came from; use it in &apos;Segment land cover&apos;. A cancelled or failed run leaves no file behind.

Training runs in the GeoFuse runtime, a separate Python with PyTorch; a GPU helps a lot.</source>
        <translation>Adapte un modèle GeoFuse à vos propres images à partir de quelques polygones que vous y avez numérisés, chacun avec une classe dans le champ de classe (un nom de classe comme building ou tree, ou un numéro de classe du modèle). Les pixels en dehors des polygones ne sont pas utilisés. Un nom de classe que le modèle ne connaît pas (par exemple pool) devient une nouvelle classe du modèle amélioré.

Les polygones peuvent être dans n'importe quel SCR et n'importe quel format vecteur ; une couche qui n'est pas un fichier (une couche temporaire, une sélection) est exportée pour l'exécution. Dessinez quelques polygones par classe, à l'intérieur d'objets de cette classe, sur la couche optique.

Modèle : le modèle de départ (vide : le modèle de démonstration fourni). Budget de temps : l'exécution s'arrête après ce nombre de minutes ou après le nombre de pas indiqué, selon ce qui arrive en premier. Le modèle amélioré (.pt) enregistre de quel modèle et de quels polygones il provient ; utilisez-le dans « Segmenter l’occupation du sol ». Une exécution annulée ou en échec ne laisse aucun fichier.

L'entraînement s'exécute dans l'environnement d'exécution GeoFuse, un Python séparé avec PyTorch ; un GPU aide beaucoup.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="142"/>
        <source>Optical layer (RGB or IRRG)</source>
        <translation>Couche optique (RVB ou IRRG)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="145"/>
        <source>Elevation layer (DSM or nDSM)</source>
        <translation>Couche d'altitude (MNS ou nMNS)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="148"/>
        <source>Training polygons</source>
        <translation>Polygones d’entraînement</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="151"/>
        <source>Class field (class names or class numbers)</source>
        <translation>Champ de classe (noms ou numéros de classe)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="159"/>
        <source>Model to improve (GeoFuse checkpoint; empty: bundled demo model)</source>
        <translation>Modèle à améliorer (point de contrôle GeoFuse ; vide : modèle de démonstration fourni)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="168"/>
        <source>Optical bands, in the model&apos;s order (empty: the first bands)</source>
        <translation>Bandes optiques, dans l'ordre du modèle (vide : les premières bandes)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="180"/>
        <source>Time budget (minutes; 0 = only the step count)</source>
        <translation>Budget de temps (minutes ; 0 = seulement le nombre de pas)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="189"/>
        <source>Training steps (at most)</source>
        <translation>Pas d'entraînement (au maximum)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="196"/>
        <source>First steps with the encoders frozen</source>
        <translation>Pas initiaux avec les encodeurs gelés</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="207"/>
        <source>Crops per step</source>
        <translation>Extraits par pas</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="214"/>
        <source>Crop size (pixels)</source>
        <translation>Taille des extraits (pixels)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="221"/>
        <source>Device</source>
        <translation>Périphérique</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="222"/>
        <source>Random seed</source>
        <translation>Graine aléatoire</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="225"/>
        <source>Improved model</source>
        <translation>Modèle amélioré</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="225"/>
        <source>GeoFuse checkpoints (*.pt)</source>
        <translation>Points de contrôle GeoFuse (*.pt)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="230"/>
        <source>New classes (comma-separated)</source>
        <translation>Nouvelles classes (séparées par des virgules)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="247"/>
        <source>The optical and the elevation layer are the same layer; choose two different layers.</source>
        <translation>La couche optique et la couche d'altitude sont la même couche ; choisissez deux couches différentes.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="292"/>
        <source>The improved model would replace the model it starts from; choose another file.</source>
        <translation>Le modèle amélioré remplacerait le modèle de départ ; choisissez un autre fichier.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="320"/>
        <source>The model cannot be used: {}</source>
        <translation>Le modèle ne peut pas être utilisé : {}</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="324"/>
        <source>{} optical bands are chosen, but the model {} needs {} ({}).</source>
        <translation>{} bandes optiques sont choisies, mais le modèle {} en demande {} ({}).</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="330"/>
        <source>The optical layer {} has {} band(s), but the model {} needs {} ({}).</source>
        <translation>La couche optique {} a {} bande(s), mais le modèle {} en demande {} ({}).</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="350"/>
        <source>The training polygons must be polygons; {} holds {} geometries.</source>
        <translation>Les polygones d’entraînement doivent être des polygones ; {} contient des géométries {}.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="358"/>
        <source>The training polygons have no field {}; their fields are: {}.</source>
        <translation>Les polygones d’entraînement n’ont pas de champ {} ; leurs champs sont : {}.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="374"/>
        <source>The training polygons ({}) have no features; digitise some first.</source>
        <translation>Les polygones d’entraînement ({}) ne contiennent aucune entité ; numérisez-en d’abord quelques-uns.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="380"/>
        <source>The class field {} is empty in every training polygon; fill in a class for each.</source>
        <translation>Le champ de classe {} est vide dans tous les polygones d’entraînement ; renseignez une classe pour chacun.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="386"/>
        <source>None of the {} training polygons overlaps the optical layer {}.</source>
        <translation>Aucun des {} polygones d’entraînement ne recoupe la couche optique {}.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="407"/>
        <source>{} is being written by another run; choose another file.</source>
        <translation>{} est en cours d’écriture par une autre exécution ; choisissez un autre fichier.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="434"/>
        <source>Labelled pixels per class: {}</source>
        <translation>Pixels étiquetés par classe : {}</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="447"/>
        <source>New classes: {}</source>
        <translation>Nouvelles classes : {}</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="449"/>
        <source>All classes are known to the base model.</source>
        <translation>Toutes les classes sont connues du modèle de départ.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="450"/>
        <source>Improved model written to {} ({} steps).</source>
        <translation>Modèle amélioré écrit dans {} ({} pas).</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="256"/>
        <source>Optical bands must be band numbers separated by commas, such as 3,2,1.</source>
        <translation>Les bandes optiques doivent être des numéros de bande séparés par des virgules, par exemple 3,2,1.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/finetune.py" line="440"/>
        <source>{} pixels where polygons of different classes overlap were ignored.</source>
        <translation>{} pixels où des polygones de classes différentes se chevauchent ont été ignorés.</translation>
    </message>
</context>
<context>
    <name>GeoFuseAlgorithm</name>
    <message>
        <location filename="../plugin/algorithms/common.py" line="193"/>
        <source>Land cover</source>
        <translation>Occupation du sol</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/inputs.py" line="101"/>
        <source>Exporting {} to a temporary GeoTIFF</source>
        <translation>Export de {} vers un GeoTIFF temporaire</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/inputs.py" line="115"/>
        <source>Could not export {} to a GeoTIFF (error {}).</source>
        <translation>Impossible d'exporter {} en GeoTIFF (erreur {}).</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/inputs.py" line="148"/>
        <source>{} has no resolution of its own; export it to a GeoTIFF at the resolution you want first.</source>
        <translation>{} n'a pas de résolution propre ; exportez-la d'abord en GeoTIFF à la résolution voulue.</translation>
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
        <translation>Ouvrir le guide GeoFuse</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="161"/>
        <source>Segment land cover from an optical and an elevation layer.</source>
        <translation>Segmenter l’occupation du sol à partir d'une couche optique et d'une couche d'altitude.</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="175"/>
        <source>Optical layer</source>
        <translation>Couche optique</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="176"/>
        <source>Band order</source>
        <translation>Ordre des bandes</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="177"/>
        <source>Elevation layer</source>
        <translation>Couche d'altitude</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="183"/>
        <source>GeoFuse checkpoints (*.pt)</source>
        <translation>Points de contrôle GeoFuse (*.pt)</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="184"/>
        <source>Choose a GeoFuse model</source>
        <translation>Choisir un modèle GeoFuse</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="195"/>
        <source>Model</source>
        <translation>Modèle</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="203"/>
        <source>Whole intersection of the layers</source>
        <translation>Toute l’intersection des couches</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="204"/>
        <source>Current map canvas extent</source>
        <translation>Emprise actuelle du canevas de carte</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="205"/>
        <source>Features of a polygon layer</source>
        <translation>Entités d'une couche de polygones</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="211"/>
        <source>Area</source>
        <translation>Zone</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="212"/>
        <source>Polygons</source>
        <translation>Polygones</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="217"/>
        <source>Device</source>
        <translation>Périphérique</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="221"/>
        <source>Advanced</source>
        <translation>Avancé</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="232"/>
        <source>Tile size (pixels)</source>
        <translation>Taille des tuiles (pixels)</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="233"/>
        <source>Tile overlap (pixels)</source>
        <translation>Recouvrement des tuiles (pixels)</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="234"/>
        <source>Tiles per batch</source>
        <translation>Tuiles par lot</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="243"/>
        <source>GeoTIFF (*.tif *.tiff)</source>
        <translation>GeoTIFF (*.tif *.tiff)</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="244"/>
        <source>[Save to temporary file]</source>
        <translation>[Enregistrer dans un fichier temporaire]</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="245"/>
        <source>Also add a confidence layer</source>
        <translation>Ajouter aussi une couche de confiance</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="248"/>
        <source>Output</source>
        <translation>Sortie</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="258"/>
        <source>Ready</source>
        <translation>Prêt</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="692"/>
        <source>Segment</source>
        <translation>Segmenter</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="395"/>
        <source>Auto (GPU when available)</source>
        <translation>Automatique (GPU si disponible)</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="396"/>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="421"/>
        <source>This model cannot be used: {}</source>
        <translation>Ce modèle ne peut pas être utilisé : {}</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="428"/>
        <source>GeoFuse {} ({}), bands {} + elevation, trained at {:g} m/pixel&lt;br&gt;{}</source>
        <translation>GeoFuse {} ({}), bandes {} + altitude, entraîné à {:g} m/pixel&lt;br&gt;{}</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="466"/>
        <source>About {} tiles of {} × {} pixels ({} × {} pixels in all)</source>
        <translation>Environ {} tuiles de {} × {} pixels ({} × {} pixels au total)</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="496"/>
        <source>The optical layer has {:.3g} m pixels but the model was trained at {:g} m: expect poor results; resample the layer to the model&apos;s resolution first.</source>
        <translation>La couche optique a des pixels de {:.3g} m mais le modèle a été entraîné à {:g} m : attendez-vous à de mauvais résultats ; rééchantillonnez d'abord la couche à la résolution du modèle.</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="523"/>
        <source>Choose an optical layer and an elevation layer.</source>
        <translation>Choisissez une couche optique et une couche d'altitude.</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="525"/>
        <source>The optical and the elevation layer are the same layer; choose two different layers.</source>
        <translation>La couche optique et la couche d'altitude sont la même couche ; choisissez deux couches différentes.</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="533"/>
        <source>The optical layer and the elevation layer do not overlap.</source>
        <translation>La couche optique et la couche d'altitude ne se recouvrent pas.</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="537"/>
        <source>The model cannot be used: {}</source>
        <translation>Le modèle ne peut pas être utilisé : {}</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="539"/>
        <source>The band order does not give the bands the model needs ({}); choose Custom.</source>
        <translation>L'ordre des bandes ne fournit pas les bandes dont le modèle a besoin ({}) ; choisissez « Personnalisé ».</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="547"/>
        <source>Choose the polygon layer whose features limit the area.</source>
        <translation>Choisissez la couche de polygones dont les entités délimitent la zone.</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="551"/>
        <source>The chosen area does not overlap the optical layer.</source>
        <translation>La zone choisie ne recoupe pas la couche optique.</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="562"/>
        <source>Land cover ({})</source>
        <translation>Occupation du sol ({})</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="577"/>
        <source>Confidence ({})</source>
        <translation>Confiance ({})</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="618"/>
        <source>Cancelling…</source>
        <translation>Annulation…</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="633"/>
        <source>GeoFuse: segmenting land cover</source>
        <translation>GeoFuse : segmentation de l’occupation du sol</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="644"/>
        <source>Starting the GeoFuse runtime…</source>
        <translation>Démarrage de l'environnement d'exécution GeoFuse…</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="645"/>
        <source>Cancel</source>
        <translation>Annuler</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="672"/>
        <source>, about {} left</source>
        <translation>, encore environ {}</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="665"/>
        <source>{} / {} tiles</source>
        <translation>{} / {} tuiles</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="678"/>
        <source>Starting the GeoFuse runtime… ({})</source>
        <translation>Démarrage de l'environnement d'exécution GeoFuse… ({})</translation>
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
        <translation>Annulé</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="698"/>
        <source>Segmentation cancelled.</source>
        <translation>Segmentation annulée.</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="700"/>
        <source>Failed</source>
        <translation>Échec</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="701"/>
        <source>unknown error</source>
        <translation>erreur inconnue</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="702"/>
        <source>Segmentation failed: {}</source>
        <translation>La segmentation a échoué : {}</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="706"/>
        <source>Done in {}</source>
        <translation>Terminé en {}</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="710"/>
        <source>Land cover segmented in {} ({} tiles).</source>
        <translation>Occupation du sol segmentée en {} ({} tuiles).</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="728"/>
        <source>The output {} could not be loaded.</source>
        <translation>La sortie {} n'a pas pu être chargée.</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="792"/>
        <source>The GeoFuse Processing provider is not loaded.</source>
        <translation>Le fournisseur de traitements GeoFuse n'est pas chargé.</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="227"/>
        <source>Auto</source>
        <translation>Automatique</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="400"/>
        <source>{}: {}, {} MB</source>
        <translation>{} : {}, {} Mo</translation>
    </message>
    <message>
        <location filename="../plugin/dock/widget.py" line="481"/>
        <source>The overlap ({}) must be less than the tile size ({}).</source>
        <translation>Le recouvrement ({}) doit être inférieur à la taille des tuiles ({}).</translation>
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
        <translation>Segmenter l’occupation du sol à partir d'une couche optique et d'une couche d'altitude</translation>
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
        <translation>GeoFuse : segmentation de l’occupation du sol</translation>
    </message>
</context>
<context>
    <name>ImprovePanel</name>
    <message>
        <location filename="../plugin/dock/improve.py" line="91"/>
        <source>Improve with my polygons</source>
        <translation>Améliorer avec mes polygones</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="105"/>
        <source>Digitise a few polygons per class over the optical layer, with a class field, to adapt the model to your imagery. A class name the model does not know becomes a new class.</source>
        <translation>Numérisez quelques polygones par classe sur la couche optique, avec un champ de classe, pour adapter le modèle à vos images. Un nom de classe que le modèle ne connaît pas devient une nouvelle classe.</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="124"/>
        <source> min</source>
        <translation> min</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="133"/>
        <source>Ready</source>
        <translation>Prêt</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="326"/>
        <source>Improve model</source>
        <translation>Améliorer le modèle</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="136"/>
        <source>Training polygons</source>
        <translation>Polygones d’entraînement</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="137"/>
        <source>Class field</source>
        <translation>Champ de classe</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="138"/>
        <source>Time budget</source>
        <translation>Budget de temps</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="192"/>
        <source>New classes: {}</source>
        <translation>Nouvelles classes : {}</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="194"/>
        <source>All classes known to the model</source>
        <translation>Toutes les classes sont connues du modèle</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="200"/>
        <source>Fine-tuned from {} on {} polygons of {}</source>
        <translation>Affiné à partir de {} sur {} polygones de {}</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="214"/>
        <source>Choose an optical layer and an elevation layer.</source>
        <translation>Choisissez une couche optique et une couche d'altitude.</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="216"/>
        <source>The optical and the elevation layer are the same layer; choose two different layers.</source>
        <translation>La couche optique et la couche d'altitude sont la même couche ; choisissez deux couches différentes.</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="221"/>
        <source>Choose the layer with your training polygons.</source>
        <translation>Choisissez la couche contenant vos polygones d’entraînement.</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="223"/>
        <source>The layer {} has no polygons yet; digitise a few per class first.</source>
        <translation>La couche {} ne contient encore aucun polygone ; numérisez-en d’abord quelques-uns par classe.</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="227"/>
        <source>Choose the field that holds the class of each polygon.</source>
        <translation>Choisissez le champ qui contient la classe de chaque polygone.</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="231"/>
        <source>The model cannot be used: {}</source>
        <translation>Le modèle ne peut pas être utilisé : {}</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="233"/>
        <source>The band order does not give the bands the model needs ({}); choose Custom.</source>
        <translation>L'ordre des bandes ne fournit pas les bandes dont le modèle a besoin ({}) ; choisissez « Personnalisé ».</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="237"/>
        <source>Wait until the segmentation has finished.</source>
        <translation>Attendez la fin de la segmentation.</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="258"/>
        <source>Cancelling…</source>
        <translation>Annulation…</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="276"/>
        <source>GeoFuse: improving the model</source>
        <translation>GeoFuse : amélioration du modèle</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="291"/>
        <source>Starting the GeoFuse runtime…</source>
        <translation>Démarrage de l'environnement d'exécution GeoFuse…</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="292"/>
        <source>Cancel</source>
        <translation>Annuler</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="312"/>
        <source>Step {}</source>
        <translation>Pas {}</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="318"/>
        <source>Starting the GeoFuse runtime… ({})</source>
        <translation>Démarrage de l'environnement d'exécution GeoFuse… ({})</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="332"/>
        <source>Cancelled</source>
        <translation>Annulé</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="333"/>
        <source>Improving the model was cancelled.</source>
        <translation>L'amélioration du modèle a été annulée.</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="335"/>
        <source>Failed</source>
        <translation>Échec</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="336"/>
        <source>unknown error</source>
        <translation>erreur inconnue</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="337"/>
        <source>Improving the model failed: {}</source>
        <translation>L'amélioration du modèle a échoué : {}</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="343"/>
        <source>Done in {}</source>
        <translation>Terminé en {}</translation>
    </message>
    <message>
        <location filename="../plugin/dock/improve.py" line="345"/>
        <source>Model improved in {}: {} is now the dock&apos;s model; press Segment.</source>
        <translation>Modèle amélioré en {} : {} est désormais le modèle du panneau ; cliquez sur « Segmenter ».</translation>
    </message>
</context>
<context>
    <name>InstallRuntimeAlgorithm</name>
    <message>
        <location filename="../plugin/algorithms/install_runtime.py" line="49"/>
        <source>Create GeoFuse runtime</source>
        <translation>Créer l'environnement d'exécution GeoFuse</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/install_runtime.py" line="66"/>
        <source>PyTorch build</source>
        <translation>Version de PyTorch</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/install_runtime.py" line="76"/>
        <source>Python to create the venv from</source>
        <translation>Python à partir duquel créer le venv</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/install_runtime.py" line="76"/>
        <source>All files (*)</source>
        <translation>Tous les fichiers (*)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/install_runtime.py" line="88"/>
        <source>Runtime folder (empty: in the QGIS profile)</source>
        <translation>Dossier de l'environnement d'exécution (vide : dans le profil QGIS)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/install_runtime.py" line="98"/>
        <source>Runtime Python</source>
        <translation>Python de l'environnement d'exécution</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/install_runtime.py" line="99"/>
        <source>CUDA available</source>
        <translation>CUDA disponible</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/install_runtime.py" line="100"/>
        <source>Diagnostics report</source>
        <translation>Rapport de diagnostic</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/install_runtime.py" line="108"/>
        <source>No Python to create the runtime from; set &apos;Python to create the venv from&apos;.</source>
        <translation>Aucun Python à partir duquel créer l'environnement d'exécution ; renseignez « Python à partir duquel créer le venv ».</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/install_runtime.py" line="115"/>
        <source>The CUDA build was asked for, but nvidia-smi reports no NVIDIA GPU.</source>
        <translation>La version CUDA a été demandée, mais nvidia-smi ne signale aucun GPU NVIDIA.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/install_runtime.py" line="118"/>
        <source>NVIDIA driver supports CUDA {}</source>
        <translation>Le pilote NVIDIA prend en charge CUDA {}</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/install_runtime.py" line="118"/>
        <source>No NVIDIA GPU found: CPU build</source>
        <translation>Aucun GPU NVIDIA trouvé : version CPU</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/install_runtime.py" line="151"/>
        <source>PyTorch&apos;s CUDA build is installed but CUDA is not available in it.</source>
        <translation>La version CUDA de PyTorch est installée, mais CUDA n'y est pas disponible.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/install_runtime.py" line="53"/>
        <source>Creates the GeoFuse runtime: a separate Python environment (venv) in your QGIS profile with PyTorch, numpy and rasterio, so that QGIS&apos;s own Python is never modified. Needs internet access and a few GB of disk space. pip&apos;s own configuration (index, extra index, proxy, certificates: pip.conf and PIP_* variables) is used; the PyTorch download index is added as an extra index when it is reachable. The runtime is built in a temporary folder and replaces the old one only once it has passed its self-check.

PyTorch build: &apos;auto&apos; installs the CUDA build when nvidia-smi reports an NVIDIA GPU, otherwise the CPU build. At the end the runtime checks itself and reports whether CUDA works.</source>
        <translation>Crée l'environnement d'exécution GeoFuse : un environnement Python séparé (venv) dans votre profil QGIS avec PyTorch, numpy et rasterio, afin que le Python de QGIS ne soit jamais modifié. Nécessite un accès à Internet et quelques Go d'espace disque. La configuration propre de pip (index, index supplémentaire, proxy, certificats : pip.conf et variables PIP_*) est utilisée ; l'index de téléchargement de PyTorch est ajouté comme index supplémentaire lorsqu'il est joignable. L'environnement est construit dans un dossier temporaire et ne remplace l'ancien qu'une fois son autovérification réussie.

Version de PyTorch : « auto » installe la version CUDA lorsque nvidia-smi signale un GPU NVIDIA, sinon la version CPU. À la fin, l'environnement se vérifie lui-même et indique si CUDA fonctionne.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/install_runtime.py" line="134"/>
        <source>The runtime was built but does not work, so it was not installed:
{}</source>
        <translation>L'environnement d'exécution a été construit mais ne fonctionne pas ; il n'a donc pas été installé :
{}</translation>
    </message>
</context>
<context>
    <name>Labels</name>
    <message>
        <location filename="../plugin/labels.py" line="16"/>
        <source>impervious surfaces</source>
        <translation>surfaces imperméables</translation>
    </message>
    <message>
        <location filename="../plugin/labels.py" line="17"/>
        <source>building</source>
        <translation>bâtiment</translation>
    </message>
    <message>
        <location filename="../plugin/labels.py" line="18"/>
        <source>low vegetation</source>
        <translation>végétation basse</translation>
    </message>
    <message>
        <location filename="../plugin/labels.py" line="19"/>
        <source>tree</source>
        <translation>arbre</translation>
    </message>
    <message>
        <location filename="../plugin/labels.py" line="20"/>
        <source>car</source>
        <translation>voiture</translation>
    </message>
    <message>
        <location filename="../plugin/labels.py" line="21"/>
        <source>clutter</source>
        <translation>divers</translation>
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
        <translation>V</translation>
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
        <translation>PIR</translation>
    </message>
</context>
<context>
    <name>Runtime</name>
    <message>
        <location filename="../plugin/runtime.py" line="268"/>
        <source>Creating the runtime venv</source>
        <translation>Création du venv de l'environnement d'exécution</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="274"/>
        <source>Updating pip</source>
        <translation>Mise à jour de pip</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="294"/>
        <source>Installing PyTorch {version} ({build} build)</source>
        <translation>Installation de PyTorch {version} (build {build})</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="302"/>
        <source>Installing numpy, rasterio and friends</source>
        <translation>Installation de numpy, rasterio et des autres paquets</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="316"/>
        <source>The disk is full. Free some space (PyTorch needs several GB) and try again.</source>
        <translation>Le disque est plein. Libérez de l'espace (PyTorch a besoin de plusieurs Go) et réessayez.</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="344"/>
        <source>No PyTorch {version} build exists for this Python ({python}) or this platform.</source>
        <translation>Il n'existe pas de build de PyTorch {version} pour ce Python ({python}) ou pour cette plateforme.</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="348"/>
        <source>This Python cannot create venvs; on Debian/Ubuntu install the package python3-venv.</source>
        <translation>Ce Python ne peut pas créer de venv ; sous Debian/Ubuntu, installez le paquet python3-venv.</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="352"/>
        <source>The command exited with code {code}.</source>
        <translation>La commande s'est terminée avec le code {code}.</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="355"/>
        <source>{step} failed. {reason}</source>
        <translation>Échec : {step}. {reason}</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="356"/>
        <source>Last output:</source>
        <translation>Dernière sortie :</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="442"/>
        <source>{step} failed: cannot run {program} ({error}).</source>
        <translation>Échec : {step} ; impossible d'exécuter {program} ({error}).</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="448"/>
        <source>Creating the GeoFuse runtime was cancelled.</source>
        <translation>La création de l'environnement d'exécution GeoFuse a été annulée.</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="175"/>
        <source>{variable} is set to &apos;{path}&apos;, which is not a file. Point it at a Python that has torch, numpy and rasterio, or unset it.</source>
        <translation>{variable} vaut « {path} », qui n'est pas un fichier. Faites-la pointer vers un Python disposant de torch, numpy et rasterio, ou supprimez-la.</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="186"/>
        <source>The GeoFuse runtime set in the plugin settings, &apos;{path}&apos;, does not exist. Choose another Python or clear the setting.</source>
        <translation>L'environnement d'exécution GeoFuse défini dans les paramètres de l'extension, « {path} », n'existe pas. Choisissez un autre Python ou videz ce paramètre.</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="202"/>
        <source>No GeoFuse runtime (a Python with PyTorch, numpy and rasterio) was found. Create one with Set up runtime in the GeoFuse panel or the Processing Toolbox's GeoFuse ▸ Set-up ▸ Create GeoFuse runtime (geofuse:install_runtime), or set the environment variable {variable} to such a Python.</source>
        <translation>Aucun environnement d'exécution GeoFuse (un Python avec PyTorch, numpy et rasterio) n'a été trouvé. Créez-en un avec « Installer l'environnement d'exécution » dans le panneau GeoFuse ou, dans la boîte à outils de traitements, avec GeoFuse ▸ Configuration ▸ Créer l'environnement d'exécution GeoFuse (geofuse:install_runtime), ou faites pointer la variable d'environnement {variable} vers un tel Python.</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="215"/>
        <source>The GeoFuse runtime in {folder} is incomplete — Set up runtime again.</source>
        <translation>L'environnement d'exécution GeoFuse dans {folder} est incomplet — installez à nouveau l'environnement d'exécution.</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="320"/>
        <source>The secure connection to {hosts} failed (SSL certificate). Behind a company proxy, set PIP_CERT (or cert in pip.conf) to your organisation&apos;s certificate bundle, or ask your IT department.</source>
        <translation>La connexion sécurisée à {hosts} a échoué (certificat SSL). Derrière un proxy d'entreprise, faites pointer PIP_CERT (ou cert dans pip.conf) vers le fichier de certificats de votre organisation, ou contactez votre service informatique.</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="339"/>
        <source>the package index</source>
        <translation>l'index des paquets</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="335"/>
        <source>Could not reach {failed} (reachable: {reachable}). Check the internet connection, or pip&apos;s proxy setting (HTTPS_PROXY, PIP_PROXY or proxy in pip.conf) if you are behind a proxy.</source>
        <translation>Impossible de joindre {failed} (joignables : {reachable}). Vérifiez la connexion Internet ou, si vous êtes derrière un proxy, le réglage de proxy de pip (HTTPS_PROXY, PIP_PROXY ou proxy dans pip.conf).</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="339"/>
        <source>none</source>
        <translation>aucun</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="419"/>
        <source>{step}: {done} of {total} MB downloaded</source>
        <translation>{step} : {done} sur {total} Mo téléchargés</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="464"/>
        <source>Adding the PyTorch index {index} as an extra index.</source>
        <translation>Ajout de l'index PyTorch {index} comme index supplémentaire.</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="470"/>
        <source>The PyTorch index is not reachable ({problem}); looking for torch {version} in pip&apos;s configured indexes only.</source>
        <translation>L'index PyTorch est injoignable ({problem}) ; recherche de torch {version} uniquement dans les index configurés pour pip.</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="487"/>
        <source>{folder} is not empty and not a venv; choose a new or empty folder for it.</source>
        <translation>{folder} n'est ni vide ni un venv ; choisissez pour cela un dossier nouveau ou vide.</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="541"/>
        <source>Cannot create the runtime beside {folder}: {error}</source>
        <translation>Impossible de créer l'environnement d'exécution à côté de {folder} : {error}</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="552"/>
        <source>Checking the new runtime</source>
        <translation>Vérification du nouvel environnement d'exécution</translation>
    </message>
    <message>
        <location filename="../plugin/runtime.py" line="560"/>
        <source>Cannot put the runtime in place at {folder}: {error}</source>
        <translation>Impossible de mettre l'environnement d'exécution en place dans {folder} : {error}</translation>
    </message>
</context>
<context>
    <name>RuntimePanel</name>
    <message>
        <location filename="../plugin/dock/runtime_panel.py" line="148"/>
        <source>GeoFuse runtime: checking…</source>
        <translation>Environnement d'exécution GeoFuse : vérification…</translation>
    </message>
    <message>
        <location filename="../plugin/dock/runtime_panel.py" line="127"/>
        <source>Set up / repair runtime</source>
        <translation>Installer / réparer l'environnement d'exécution</translation>
    </message>
    <message>
        <location filename="../plugin/dock/runtime_panel.py" line="130"/>
        <source>Copy diagnostics</source>
        <translation>Copier le diagnostic</translation>
    </message>
    <message>
        <location filename="../plugin/dock/runtime_panel.py" line="188"/>
        <source>Checking the GeoFuse runtime</source>
        <translation>Vérification de l'environnement d'exécution GeoFuse</translation>
    </message>
    <message>
        <location filename="../plugin/dock/runtime_panel.py" line="190"/>
        <source>GeoFuse runtime: cannot check ({})</source>
        <translation>Environnement d'exécution GeoFuse : vérification impossible ({})</translation>
    </message>
    <message>
        <location filename="../plugin/dock/runtime_panel.py" line="204"/>
        <source>GeoFuse runtime: Python {}, torch {}, CUDA: {}</source>
        <translation>Environnement d'exécution GeoFuse : Python {}, torch {}, CUDA : {}</translation>
    </message>
    <message>
        <location filename="../plugin/dock/runtime_panel.py" line="204"/>
        <source>yes</source>
        <translation>oui</translation>
    </message>
    <message>
        <location filename="../plugin/dock/runtime_panel.py" line="204"/>
        <source>no</source>
        <translation>non</translation>
    </message>
    <message>
        <location filename="../plugin/dock/runtime_panel.py" line="212"/>
        <source>Repair runtime</source>
        <translation>Réparer l'environnement d'exécution</translation>
    </message>
    <message>
        <location filename="../plugin/dock/runtime_panel.py" line="216"/>
        <source>the check failed</source>
        <translation>la vérification a échoué</translation>
    </message>
    <message>
        <location filename="../plugin/dock/runtime_panel.py" line="217"/>
        <source>Set up runtime</source>
        <translation>Installer l'environnement d'exécution</translation>
    </message>
    <message>
        <location filename="../plugin/dock/runtime_panel.py" line="180"/>
        <source>No GeoFuse runtime yet.</source>
        <translation>Pas encore d'environnement d'exécution GeoFuse.</translation>
    </message>
    <message>
        <location filename="../plugin/dock/runtime_panel.py" line="220"/>
        <source>GeoFuse runtime: incomplete — Set up runtime again.</source>
        <translation>Environnement d'exécution GeoFuse : incomplet — installez à nouveau l'environnement d'exécution.</translation>
    </message>
    <message>
        <location filename="../plugin/dock/runtime_panel.py" line="151"/>
        <source>Looking for the GeoFuse runtime</source>
        <translation>Recherche de l'environnement d'exécution GeoFuse</translation>
    </message>
</context>
<context>
    <name>SegmentAlgorithm</name>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="87"/>
        <source>Segment land cover (optical + elevation)</source>
        <translation>Segmenter l’occupation du sol (optique + altitude)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="91"/>
        <source>Classifies every pixel of the optical layer into land-cover classes (impervious surfaces, building, low vegetation, tree, car, clutter for the bundled model) using the optical layer and an elevation layer (DSM or nDSM) together.

The output has the optical layer&apos;s grid; the elevation is resampled onto it. Layers that are not files (WMS, XYZ, database rasters) are exported to a temporary GeoTIFF first.

Model: a GeoFuse checkpoint (.pt); empty uses the bundled demo model. Optical bands: the band numbers fed to the model, in the model&apos;s band order (empty: the first bands). Tile size and overlap set how the raster is cut into windows; lower them (or the batch size) if memory runs out.

The model runs in the GeoFuse runtime, a separate Python with PyTorch (see &apos;Create GeoFuse runtime&apos;); QGIS itself never loads PyTorch.</source>
        <translation>Classe chaque pixel de la couche optique dans une classe d’occupation du sol (pour le modèle fourni : surfaces imperméables, bâtiment, végétation basse, arbre, voiture, divers) en utilisant ensemble la couche optique et une couche d'altitude (MNS ou nMNS).

Le résultat a la grille de la couche optique ; l'altitude y est rééchantillonnée. Les couches qui ne sont pas des fichiers (WMS, XYZ, rasters de base de données) sont d'abord exportées vers un GeoTIFF temporaire.

Modèle : un point de contrôle GeoFuse (.pt) ; vide, le modèle de démonstration fourni est utilisé. Bandes optiques : les numéros des bandes transmises au modèle, dans l'ordre des bandes du modèle (vide : les premières bandes). La taille des tuiles et leur recouvrement déterminent le découpage du raster en fenêtres ; réduisez-les (ou la taille des lots) si la mémoire vient à manquer.

Le modèle s'exécute dans l'environnement d'exécution GeoFuse, un Python séparé avec PyTorch (voir « Créer l'environnement d'exécution GeoFuse ») ; QGIS lui-même ne charge jamais PyTorch.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="113"/>
        <source>Optical layer (RGB or IRRG)</source>
        <translation>Couche optique (RVB ou IRRG)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="116"/>
        <source>Elevation layer (DSM or nDSM)</source>
        <translation>Couche d'altitude (MNS ou nMNS)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="119"/>
        <source>Model (GeoFuse checkpoint; empty: bundled demo model)</source>
        <translation>Modèle (point de contrôle GeoFuse ; vide : modèle de démonstration fourni)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="128"/>
        <source>Optical bands, in the model&apos;s order (empty: the first bands)</source>
        <translation>Bandes optiques, dans l'ordre du modèle (vide : les premières bandes)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="137"/>
        <source>Device</source>
        <translation>Périphérique</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="151"/>
        <source>Tile overlap (pixels)</source>
        <translation>Recouvrement des tuiles (pixels)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="161"/>
        <source>Tiles per batch</source>
        <translation>Tuiles par lot</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="176"/>
        <source>Extent (empty: the whole optical layer)</source>
        <translation>Emprise (vide : toute la couche optique)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="191"/>
        <source>Land cover</source>
        <translation>Occupation du sol</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="192"/>
        <source>Confidence</source>
        <translation>Confiance</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="197"/>
        <source>Tiles processed</source>
        <translation>Tuiles traitées</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="198"/>
        <source>Seconds taken</source>
        <translation>Durée (secondes)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="307"/>
        <source>No model given and the bundled demo model is missing ({}).</source>
        <translation>Aucun modèle indiqué et le modèle de démonstration fourni est absent ({}).</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="382"/>
        <source>{}: {} pixels</source>
        <translation>{} : {} pixels</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="181"/>
        <source>Area: polygons (pixels outside become nodata; empty: no mask)</source>
        <translation>Zone : polygones (les pixels en dehors deviennent nodata ; vide : pas de masque)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="199"/>
        <source>Class areas and class table (JSON)</source>
        <translation>Surfaces des classes et table des classes (JSON)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="355"/>
        <source>The mask polygons do not overlap the optical layer (or the extent).</source>
        <translation>Les polygones du masque ne recoupent pas la couche optique (ni l'emprise).</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="141"/>
        <source>Tile size (pixels; 0 = the model&apos;s default: 512 or its training crop if larger)</source>
        <translation>Taille des tuiles (pixels ; 0 = valeur par défaut du modèle : 512, ou sa taille d’entraînement si elle est plus grande)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="243"/>
        <source>The optical and the elevation layer are the same layer ({}); choose two different layers.</source>
        <translation>La couche optique et la couche d'altitude sont la même couche ({}) ; choisissez deux couches différentes.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="250"/>
        <source>The model cannot be used: {}</source>
        <translation>Le modèle ne peut pas être utilisé : {}</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="254"/>
        <source>Optical bands must be band numbers separated by commas, such as 3,2,1.</source>
        <translation>Les bandes optiques doivent être des numéros de bande séparés par des virgules, par exemple 3,2,1.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="257"/>
        <source>{} has {} band(s); the model needs {} optical bands ({}).</source>
        <translation>{} a {} bande(s) ; le modèle demande {} bandes optiques ({}).</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="261"/>
        <source>{} optical band(s) were given; the model needs {} ({}).</source>
        <translation>{} bande(s) optique(s) indiquée(s) ; le modèle en demande {} ({}).</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="266"/>
        <source>{} has no band {}; it has {} band(s).</source>
        <translation>{} n'a pas de bande {} ; il a {} bande(s).</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="234"/>
        <source>The overlap ({}) must be less than the tile size ({}).</source>
        <translation>Le recouvrement ({}) doit être inférieur à la taille des tuiles ({}).</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="378"/>
        <source>{}: {} m²</source>
        <translation>{}: {} m²</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="324"/>
        <source>land-cover class</source>
        <translation>classe d'occupation du sol</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="325"/>
        <source>confidence (max softmax probability)</source>
        <translation>confiance (probabilité softmax maximale)</translation>
    </message>
</context>
<context>
    <name>SetupAlgorithm</name>
    <message>
        <location filename="../plugin/algorithms/common.py" line="217"/>
        <source>Set-up</source>
        <translation>Configuration</translation>
    </message>
</context>
<context>
    <name>TrainAlgorithm</name>
    <message>
        <location filename="../plugin/algorithms/train.py" line="76"/>
        <source>Train land-cover model</source>
        <translation>Entraîner un modèle d’occupation du sol</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="112"/>
        <source>Optical layers</source>
        <translation>Couches optiques</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="112"/>
        <source>Elevation layers (same order)</source>
        <translation>Couches d'altitude (même ordre)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="112"/>
        <source>Label layers (same order)</source>
        <translation>Couches d'étiquettes (même ordre)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="118"/>
        <source>…or a training folder (optical/, elevation/, labels/)</source>
        <translation>…ou un dossier d’entraînement (optical/, elevation/, labels/)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="126"/>
        <source>Validation folder (same layout)</source>
        <translation>Dossier de validation (même structure)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="194"/>
        <source>Model variant</source>
        <translation>Variante du modèle</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="203"/>
        <source>Model width</source>
        <translation>Largeur du modèle</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="208"/>
        <source>Training steps</source>
        <translation>Pas d'entraînement</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="211"/>
        <source>Crops per step</source>
        <translation>Extraits par pas</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="214"/>
        <source>Crop size (pixels)</source>
        <translation>Taille des extraits (pixels)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="221"/>
        <source>Learning rate</source>
        <translation>Taux d'apprentissage</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="228"/>
        <source>Device</source>
        <translation>Périphérique</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="229"/>
        <source>Random seed</source>
        <translation>Graine aléatoire</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="232"/>
        <source>Training folder</source>
        <translation>Dossier d'entraînement</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="235"/>
        <source>Trained model</source>
        <translation>Modèle entraîné</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="302"/>
        <source>Give either the layer lists or a training folder, not both.</source>
        <translation>Indiquez soit les listes de couches, soit un dossier d'entraînement, pas les deux.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="306"/>
        <source>Give a training folder, or as many optical as elevation and label layers (at least one).</source>
        <translation>Indiquez un dossier d'entraînement, ou autant de couches optiques que de couches d'altitude et d'étiquettes (au moins une).</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="293"/>
        <source>Model written to {}</source>
        <translation>Modèle écrit dans {}</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="80"/>
        <source>Trains a GeoFuse model from optical, elevation and label rasters and writes the checkpoint model.pt (usable by &apos;Segment land cover&apos;) into the output folder, with last.pt to resume and metrics.csv.

Give either the three lists of layers (the n-th optical, elevation and label layers belong together and share one pixel grid) or a folder with optical/, elevation/ and labels/ subfolders of same-named GeoTIFFs (and optionally classes.csv). Labels are class indices (255 = ignore) or class colours. Training runs in the GeoFuse runtime; a GPU helps a lot.

ISPRS Vaihingen or Potsdam: choose the dataset and give the folder holding the downloaded archives, as downloaded (zips, read in place) or unpacked in any way. The training tiles of the chosen split are used (benchmark: the contest&apos;s; fusion-papers: the split of the DSM-fusion papers), minus a few validation tiles; the test tiles are left for evaluation. Archives and every label colour are checked before the first step.</source>
        <translation>Entraîne un modèle GeoFuse à partir de rasters optiques, d'altitude et d'étiquettes et écrit le point de contrôle model.pt (utilisable dans « Segmenter l’occupation du sol ») dans le dossier de sortie, avec last.pt pour reprendre et metrics.csv.

Indiquez soit les trois listes de couches (les n-ièmes couches optique, d'altitude et d'étiquettes vont ensemble et partagent une même grille de pixels), soit un dossier avec les sous-dossiers optical/, elevation/ et labels/ contenant des GeoTIFF de mêmes noms (et éventuellement classes.csv). Les étiquettes sont des indices de classe (255 = ignorer) ou des couleurs de classe. L'entraînement s'exécute dans l'environnement d'exécution GeoFuse ; un GPU aide beaucoup.

ISPRS Vaihingen ou Potsdam : choisissez le jeu de données et indiquez le dossier contenant les archives téléchargées, telles quelles (zips, lus sur place) ou décompressées de n'importe quelle manière. Les tuiles d'entraînement de la répartition choisie sont utilisées (benchmark : celle du concours ; fusion-papers : celle des articles sur la fusion avec le MNS), moins quelques tuiles de validation ; les tuiles de test sont réservées à l'évaluation. Les archives et chaque couleur d'étiquette sont vérifiées avant le premier pas.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="103"/>
        <source>Dataset</source>
        <translation>Jeu de données</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="134"/>
        <source>ISPRS download folder (zips or unpacked)</source>
        <translation>Dossier du téléchargement ISPRS (zips ou décompressé)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="139"/>
        <source>ISPRS split</source>
        <translation>Répartition ISPRS</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="148"/>
        <source>Potsdam optical bands</source>
        <translation>Bandes optiques (Potsdam)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="157"/>
        <source>Potsdam elevation (DSM or normalised nDSM)</source>
        <translation>Altitude (Potsdam ; MNS ou nMNS normalisé)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="166"/>
        <source>ISPRS validation tiles, comma-separated (empty: a fixed few)</source>
        <translation>Tuiles de validation ISPRS, séparées par des virgules (vide : quelques tuiles fixes)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="175"/>
        <source>Validate on the eroded ISPRS references</source>
        <translation>Valider sur les références ISPRS érodées</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="182"/>
        <source>Check archives and every label before training</source>
        <translation>Vérifier les archives et chaque étiquette avant l'entraînement</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="324"/>
        <source>Give the folder holding the ISPRS download.</source>
        <translation>Indiquez le dossier contenant le téléchargement ISPRS.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/train.py" line="326"/>
        <source>Give either an ISPRS download or your own rasters (layer lists or folder), not both.</source>
        <translation>Indiquez soit un téléchargement ISPRS, soit vos propres rasters (listes de couches ou dossier), pas les deux.</translation>
    </message>
</context>
<context>
    <name>WorkerClient</name>
    <message>
        <location filename="../plugin/worker_client.py" line="113"/>
        <source>unknown signal</source>
        <translation>signal inconnu</translation>
    </message>
    <message>
        <location filename="../plugin/worker_client.py" line="120"/>
        <source>was killed by signal {number} ({name})</source>
        <translation>a été tué par le signal {number} ({name})</translation>
    </message>
    <message>
        <location filename="../plugin/worker_client.py" line="125"/>
        <source>crashed ({crash}, exit code {code})</source>
        <translation>a planté ({crash}, code de sortie {code})</translation>
    </message>
    <message>
        <location filename="../plugin/worker_client.py" line="128"/>
        <source>exited with code {code}</source>
        <translation>s'est terminé avec le code {code}</translation>
    </message>
    <message>
        <location filename="../plugin/worker_client.py" line="166"/>
        <source>Cannot start the GeoFuse runtime {python} ({source}): {error}</source>
        <translation>Impossible de démarrer l'environnement d'exécution GeoFuse {python} ({source}) : {error}</translation>
    </message>
    <message>
        <location filename="../plugin/worker_client.py" line="198"/>
        <source>Cancelled: the GeoFuse worker was stopped.</source>
        <translation>Annulé : le processus de calcul GeoFuse a été arrêté.</translation>
    </message>
    <message>
        <location filename="../plugin/worker_client.py" line="245"/>
        <source>The GeoFuse worker process died: it {exit} before finishing.</source>
        <translation>Le processus de calcul GeoFuse s'est interrompu : il {exit} avant d'avoir fini.</translation>
    </message>
    <message>
        <location filename="../plugin/worker_client.py" line="249"/>
        <source>Its last messages:</source>
        <translation>Ses derniers messages :</translation>
    </message>
    <message>
        <location filename="../plugin/worker_client.py" line="257"/>
        <source>Cancelled.</source>
        <translation>Annulé.</translation>
    </message>
    <message>
        <location filename="../plugin/worker_client.py" line="317"/>
        <source>about {seconds} s left</source>
        <translation>environ {seconds} s restantes</translation>
    </message>
    <message>
        <location filename="../plugin/worker_client.py" line="321"/>
        <source>about {minutes} min left</source>
        <translation>environ {minutes} min restantes</translation>
    </message>
    <message>
        <location filename="../plugin/worker_client.py" line="115"/>
        <source>was killed by signal {number} ({name}) (the system may have run out of memory, or the process was killed)</source>
        <translation>a été tué par le signal {number} ({name}) (le système a peut-être manqué de mémoire, ou le processus a été tué)</translation>
    </message>
</context>
</TS>
