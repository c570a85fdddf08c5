import json
C="2026-12-02"
FIELDS=["responsible_actor","legal_basis","financing","livelihood","typical_duration","prerequisites","info_url"]
cat=json.load(open('/work/main/data/catalogue.json'))
byk={o['key']:o for o in cat}
def S(title,url,fields,note): return {"title":title,"url":url,"checked":C,"fields":fields,"note":note}
# shared sources
IMDI_KK=("IMDi: Kompetansekartlegging etter integreringsloven","https://www.imdi.no/kvalifisering/regelverk/introduksjonsprogrammet/kompetansekartlegging-etter-integreringsloven/")
IMDI_KKM=("IMDi: Kompetansekartlegging i asylmottak","https://www.imdi.no/kvalifisering/regelverk/kvalifisering-i-mottak/kompetansekartlegging-i-asylmottak/")
IMDI_V5=("IMDi: Veileder til integreringsloven kap. 5 Kompetansekartlegging og karriereveiledning","https://imdiny-prep.imdi.no/regelverk/integreringsloven/veileder-til-integreringsloven/5.-kompetansekartlegging-og-karriereveiledning")
IMDI_KV=("IMDi: Karriereveiledning etter integreringsloven","https://www.imdi.no/kvalifisering/regelverk/introduksjonsprogrammet/karriereveiledning-etter-integreringsloven/")
LOV=("Integreringsloven (norgeslover.no)","https://norgeslover.no/lov/NL%2Flov%2F2020-11-06-127")
LOVPDF=("Integreringsloven, innholdsfortegnelse (norgeslover.no, PDF-eksport)","https://norgeslover.no/api/eksport-lov.php?format=pdf&id=NL%2Flov%2F2020-11-06-127")
UDI_IM=("UDI: Hva er et integreringsmottak?","https://www.udi.no/asylmottak/jobber-i-mottak/integrering-i-mottak/integreringsmottak/")
UDI_IMB=("UDI: Integreringsmottak (for beboere)","https://udi.no/asylmottak/bor-eller-onsker-a-bo-i-et-asylmottak/integreringsmottak/")
IMDI_STONAD=("IMDi: Introduksjonsstønad","https://www.imdi.no/kvalifisering/regelverk/introduksjonsprogrammet/introduksjonsstonad/")
VEIV=("Veiviseren: Integreringstilskudd","https://veiviseren.no/forstaa-helheten/finansiering/integreringstilskudd")
TOLKLOV=("Stortinget: Lovvedtak 152 (2020–2021), tolkeloven","https://stortinget.no/no/Saker-og-publikasjoner/Vedtak/Beslutninger/Lovvedtak/2020-2021/vedtak-202021-152")
IMDI_T3=("IMDi: Veileder til tolkeloven, 3 Krav til offentlige organer","https://www.imdi.no/regelverk/veileder-til-tolkeloven-og-tolkeforskriften/3-krav-til-offentlige-organer")
IMDI_T7=("IMDi: Veileder til tolkeloven, 7 Nasjonalt tolkeregister, statsautorisasjonsordningen og reaksjoner","https://www.imdi.no/regelverk/veileder-til-tolkeloven-og-tolkeforskriften/7-nasjonalt-tolkeregister-statsautorisasjonsordningen-og-reaksjoner")
OSLOMET_KV=("OsloMet: Kvalifiseringstilbud for tolker","https://www.oslomet.no/om/lui/kvalifiseringstilbud-tolker")
NAV_EN=("NAV: Training (labour market training, vocational training)","https://www.nav.no/en/home/benefits-and-services/relatert-informasjon/training")
NAV_R=("NAV: Rundskriv – utfyllende regler til tiltaksforskriften (R76-12-01)","https://www.nav.no/nav.no-ressurser/lenker/regelverk/rettskildene/hovednr.76-11-utfyllende-regler-om-mentorordningen")
LK_FS=("Lånekassen: Informasjon om flyktningstipend på fleire språk","https://lanekassen.no/nn-NO/presse-og-samfunnskontakt/nyheiter/informasjon-om-flyktningstipend-pa-fleire-sprak/")
HKDIR_MOD=("HK-dir: Hva er modulstrukturert opplæring?","https://hkdir.no/voksenopplaering/modulstrukturert-opplaering-for-voksne/hva-er-modulstrukturert-opplaering")
UDIR_RKV=("Udir: Nasjonale retningslinjer for realkompetansevurdering av voksne, del 1","https://www.udir.no/eksamen-og-prover/dokumentasjon/realkompetansevurdering/nasjonale-retningslinjer-for-realkompetansevurdering-av-voksne-i-videregaende-opplaring/del-1-sentrale-avklaringer-om-realkompetansevurdering/")
ROGFK=("Rogaland fylkeskommune: Voksenopplæring – ofte stilte spørsmål","https://ag-https.rogfk.no/Vaare-tjenester/Utdanning/Voksenopplaering/Ofte-stilte-spoersmaal")
PROP57=("Prop. 57 L (2022–2023) kap. 43 Rett til førebuande og vidaregåande opplæring for vaksne","https://regjeringen.no/no/dokumenter/prop.-57-l-20222023/id2967679/?ch=43")
def s(t,f,n): return S(t[0],t[1],f,n)

R={}
def add(key,sources,corr=None,note_unc=None):
    corr=corr or {}
    conf=set()
    for x in sources: conf|=set(x["fields"])
    unc=[f for f in FIELDS if f not in conf and f not in corr]
    R[key]={"sources":sources,"corrections":corr,"still_uncertain":unc}

add("kompetansekartlegging",[
 s(IMDI_KK,["responsible_actor","legal_basis","info_url","prerequisites"],"Kommunen skal kartlegge alle i målgruppen for introduksjonsprogrammet med tillatelse etter 1.1.2021 som ikke allerede har kartlegging i IMDinett; registreres i Kompass; viser til §§ 6 og 10."),
 s(IMDI_KKM,["responsible_actor","prerequisites"],"I mottak inntrer rett og plikt først når personen har fått tillatelse som gir rett og plikt til introduksjonsprogram; vertskommunen har ansvaret."),
 s(IMDI_V5,["legal_basis","typical_duration","prerequisites"],"Kartleggingen må være gjort før vedtak om program, dvs. senest innen tre måneder etter bosetting; kvalifisert tolk vil oftest være nødvendig."),
 s(UDI_IMB,["livelihood"],"Beboere i integreringsmottak får samme økonomiske ytelser som i ordinære mottak."),
 s(IMDI_STONAD,["livelihood"],"Deltakere i introduksjonsprogram har rett til introduksjonsstønad, utbetalt av kommunen."),
 S("UDI: Ny ordning med kompetansekartlegging for beboere (2018)","https://www.udi.no/aktuelt/ny-ordning-med-kompetansekartlegging-av-beboere/",["prerequisites"],"Før tillatelse er kartlegging et frivillig tilbud (gjaldt allerede alle beboere i integreringsmottak)."),
],{"prerequisites":{"min_cefr":None,"text":"Rett og plikt gjelder personer i målgruppen for introduksjonsprogrammet som har fått oppholdstillatelse etter 1. januar 2021 som gir rett og plikt til programmet, og som ikke allerede har en kartlegging registrert i IMDinett. I mottak inntrer retten og plikten når tillatelsen er gitt; før det er kartlegging et frivillig tilbud. Kvalifisert tolk brukes normalt."}})

add("karriereveiledning-integreringsloven-11",[
 s(IMDI_KV,["responsible_actor","legal_basis","financing","typical_duration","prerequisites","info_url"],"Rett og plikt for målgruppen; fylkeskommunen sørger for tilbudet og dekker kostnad og tolk; bygger på kartleggingen, bør skje før vedtak om program og ende i en anbefaling; oppsummering føres i IMDinett."),
 s(LOV,["responsible_actor","legal_basis"],"§ 4 tredje ledd: fylkeskommunen skal sørge for tilbud om karriereveiledning etter § 11."),
 s(IMDI_V5,["typical_duration"],"Vedtak om introduksjonsprogram skal treffes senest tre måneder etter bosetting, og veiledningen bør ligge før vedtaket."),
])

add("karriereveiledning-integreringsmottak",[
 s(UDI_IM,["responsible_actor","prerequisites"],"I integreringsmottak gir mottaket tjenester sammen med vertskommunen, det lokale karrieresenteret og NAV; målgruppen har fått eller har stor sannsynlighet for å få tillatelse."),
 s(UDI_IMB,["livelihood","prerequisites"],"Beboere får samme økonomiske ytelser som i ordinære mottak; karriereveiledning er en del av fulltidsprogrammet man forplikter seg til."),
 S("IMDi: Tilskudd til kvalifisering for beboere i integreringsmottak (2019)","https://www.imdi.no/tilskudd/tilskudd-til-kvalifisering-for-beboere-i-integreringsmottak/",[],"IMDi-tilskudd skulle finansiere fulltidsprogrammet, som skal inneholde karriereveiledning; mottaker av tilskuddet framgår ikke av utdraget (financing derfor uavklart)."),
 s(LOVPDF,[],"§ 7 heter «Andre integreringsfremmende tiltak før bosetting i en kommune»; ingen kilde knytter karriereveiledningen i mottaket til § 7 (legal_basis uavklart)."),
],{"info_url":"https://udi.no/asylmottak/bor-eller-onsker-a-bo-i-et-asylmottak/integreringsmottak/"})

add("karrieresenter-fylkeskommunalt",[
 S("Kompetanse Norge: Partnarskap for karriererettleiing i fylka","https://www.kompetansenorge.no/Karriereveiledning/Partnerskap-for-karriereveiledning-i-fylkene/",["responsible_actor","financing"],"Fylkeskommunen og NAV er med i alle partnerskap, mange fylker har karrieresenter; Kompetanse Norge forvaltet statstilskuddet til partnerskapene (avtalebasert, ikke lovfestet)."),
 S("HK-dir: Om karriereveiledning","https://hkdir.no/karriereveiledning-og-utdanningsvalg/om-karriereveiledning",["financing"],"HK-dir har nasjonalt systemansvar for de offentlige karriereveiledningstjenestene."),
 S("NOU 2016: 7 kap. 6 Karrieresentre og partnerskap","https://www.regjeringen.no/no/dokumenter/nou-2016-7/id2485246/?ch=7",["prerequisites"],"Karrieresentrene er tenkt som et åpent tilbud for voksne over 19 år."),
 S("Veilederforum: Hordaland fylkeskommune setter karriereveiledning i fokus","https://veilederforum.no/content/hordaland-fylkeskommune-setter-karriereveiledning-i-fokus",["prerequisites"],"Eksempel: fylkets karrieresentre skal betjene alle voksne over 19 år, med lav terskel."),
],{"prerequisites":{"min_cefr":None,"text":"Åpent tilbud for voksne over 19 år (målgruppe og tilbud varierer mellom fylkene); ingen formelle krav; tolk kan være nødvendig."}})

add("karriereveiledning-no",[
 S("Karriereveiledning.no: Personvernerklæring","https://karriereveiledning.no/en/node/470",["responsible_actor","info_url"],"Nettsted der alle kan få veiledning på telefon og chat; HK-dir er behandlingsansvarlig."),
 S("HK-dir: Om karriereveiledning","https://hkdir.no/karriereveiledning-og-utdanningsvalg/om-karriereveiledning",["legal_basis"],"HK-dir har nasjonalt systemansvar for offentlige karriereveiledningstjenester."),
 S("Kompetanse Norge: Nasjonal digital karriereveiledningstjeneste","https://www.kompetansenorge.no/Karriereveiledning/nasjonal-digital-karriereveiledningstjeneste/",["financing"],"Tjenesten skal gi offentlig, kvalitetssikret og gratis karriereveiledning på nett, på oppdrag fra Kunnskapsdepartementet."),
])

add("nav-behovsvurdering-oppfolging",[
 S("Nav-loven, innholdsfortegnelse (norgeslover.no, PDF-eksport)","https://www.norgeslover.no/api/eksport-lov.php?format=pdf&id=NL%2Flov%2F2006-06-16-20",["responsible_actor","legal_basis","info_url"],"§ 14 a gjelder vurdering av behov for bistand for å beholde eller skaffe arbeid og rett til aktivitetsplan; dokument-ID NL/lov/2006-06-16-20 er Nav-loven."),
 S("Sivilombudet: Klageadgang på fornyet arbeidsevnevurdering","https://www.sivilombudet.no/uttalelser/sak-om-klageadgang-pa-fornyet-arbeidsevnevurdering/",["legal_basis"],"§ 14 a gir rett til vurdering av bistandsbehov, og vedtaket kan påklages."),
 S("Meld. St. 16 (2015–2016) kap. 5 Opplæringstiltak i Arbeids- og velferdsetaten","https://www.regjeringen.no/no/dokumenter/meld.-st.-16-20152016/id2476199/?ch=6",["prerequisites"],"Alle som henvender seg til et NAV-kontor og ønsker eller trenger det, skal få vurdert bistandsbehovet; tiltak er ingen rettighet."),
],{"prerequisites":{"min_cefr":None,"text":"Alle som henvender seg til et Nav-kontor og ønsker eller trenger det, har rett til å få vurdert bistandsbehovet sitt (Nav-loven § 14 a); selve tiltakene er ingen rettighet."}})

add("tolk-offentlige-tjenester",[
 s(TOLKLOV,["legal_basis","prerequisites"],"§ 4 forbyr bruk av barn som tolk; § 6 pålegger tolk når lov krever det eller når det trengs for rettssikkerhet/forsvarlig hjelp, vurdert ut fra om partene kan kommunisere forsvarlig."),
 s(IMDI_T3,["legal_basis","info_url"],"IMDis veileder forklarer plikten etter tolkeloven § 6."),
 S("Tolkeforeningen: Finn en tolk","https://tolkeforeningen.no/finn-en-tolk",["responsible_actor"],"IMDi er nasjonal fagmyndighet for tolking i offentlig sektor."),
])

add("nasjonalt-tolkeregister",[
 s(IMDI_T7,["responsible_actor","legal_basis"],"Registeret forvaltes av IMDi og er regulert i tolkeloven § 17 (tidligere integreringsloven § 45)."),
 S("IMDi: Om Nasjonalt tolkeregister","https://www.imdi.no/tolk/om-nasjonalt-tolkeregister/",["prerequisites","info_url"],"Offentlig innsynsregister; man søker på språk m.m. og kontakter tolken direkte."),
 S("Tolkeforeningen: Finn en tolk","https://tolkeforeningen.no/finn-en-tolk",["financing"],"Registeret eies og drives av IMDi (at søk er gratis står ikke eksplisitt)."),
])

add("tolk-i-integreringsarbeidet",[
 s(IMDI_V5,["responsible_actor"],"Kommunen vil som regel måtte bruke kvalifisert tolk i kartleggingen."),
 s(IMDI_KV,["financing"],"Fylkeskommunen dekker kostnad og tolk i karriereveiledningen etter § 11."),
 s(VEIV,["financing"],"Integreringstilskuddet skal blant annet finansiere tolk, introduksjonsprogram og -stønad."),
 s(TOLKLOV,["legal_basis","prerequisites"],"§ 6: behovet vurderes bl.a. ut fra om partene kan kommunisere forsvarlig og sakens alvor."),
 s(IMDI_T3,["info_url"],"Veiledersiden om offentlige organers plikt finnes på oppgitt adresse."),
])

add("tosprakstesten-og-tao",[
 s(OSLOMET_KV,["responsible_actor","typical_duration"],"OsloMet holder Tospråktesten (muntlig prøve i norsk og et annet språk, to prøverunder i året fra 2024); tilfredsstillende resultat gir tilbud om TAO og deretter kategori E i registeret."),
 s(IMDI_T7,["legal_basis"],"Kravene for oppføring i registeret følger av tolkeloven § 17 med forskrift."),
 S("Tolkeforeningen: Finn en tolk","https://tolkeforeningen.no/finn-en-tolk",["typical_duration"],"Kategori E krever tredagerskurset TAO og bestått Tospråktest."),
 S("Østtolk: Nasjonalt tolkeregister","https://www.osttolk.no/tag/nasjonalt-tolkeregister/",[],"Tospråktesten er en muntlig prøve; erfaring kreves ikke (min_cefr B2 ikke bekreftet)."),
],{"typical_duration":"Tospråktesten er én muntlig prøve (to prøverunder i året fra 2024); TAO er et tredagerskurs.","info_url":"https://www.oslomet.no/om/lui/kvalifiseringstilbud-tolker"})

add("tolkeutdanning-og-statsautorisasjon",[
 s(OSLOMET_KV,["responsible_actor","typical_duration"],"Grunnemnet er 30 studiepoeng over ett år på deltid; bachelor er 180 studiepoeng."),
 S("OsloMet: Autorisasjonsprøve i tolking","https://www.oslomet.no/om/lui/autorisasjonsprove-tolking",["financing","prerequisites"],"Bestått prøve gir bevilling som statsautorisert tolk; oppmeldingsgebyr 3 000 kr (2024); norskkrav som for generell studiekompetanse."),
 S("OsloMet: Innføring i tolking i offentlig sektor","https://www.oslomet.no/studier/lui/evu-lui/innforing-tolking-offentlig-sektor",["prerequisites"],"Krever B2 i begge arbeidsspråk og tilfredsstillende resultat på Tospråktesten."),
 S("OsloMet: Tolking i offentlig sektor (bachelor)","https://www.oslomet.no/studier/lui/tolking-i-offentlig-sektor",["prerequisites"],"Opptak krever generell studiekompetanse eller realkompetanse og godkjent muntlig prøve."),
 s(IMDI_T7,["legal_basis","info_url"],"Veilederen omtaler tolkeregister og statsautorisasjonsordningen."),
])

add("opplaering-norsk-og-samfunnskunnskap",[
 s(LOV,["responsible_actor","legal_basis"],"§ 3: kommunen har ansvar for opplæring etter kap. 6; § 4: fylkeskommunen har ansvar etter § 30 andre ledd."),
 s(LOVPDF,["legal_basis","info_url"],"Kap. 6 har § 26 målgruppe, § 27 rett og plikt, § 28 plikt, § 29 fritak; ID NL/lov/2020-11-06-127 er integreringsloven."),
 S("IMDi: Juridisk veileder til integreringsloven kap. 6","https://www.imdi.no/kvalifisering/regelverk/juridisk-veileder-til-integreringsloven/kapittel-6-opplaring-i-norsk-og-samfunnskunnskap/",["prerequisites"],"18–67 år da tillatelsen ble gitt; rett og plikt (§ 27) eller bare plikt (§ 28)."),
 S("KS: Flyktningers rett til norskopplæring og introduksjonsprogram","https://www.ks.no/fagomrader/innvandring-og-integrering/krigen-i-ukraina/flyktningers-rett-til-norskopplaring-og-introduksjonsprogram-fra-kommunene/",["financing"],"Rett til opplæring betyr at den er gratis; kommunene får statlige tilskudd."),
])

add("opplaering-i-mottak",[
 S("IMDi: Opplæring i norsk og samfunnskunnskap for asylsøkere i mottak","https://www.imdi.no/kvalifisering/regelverk/kvalifisering-i-mottak/opplaring-i-norsk-og-samfunnskunnskap-for-asylsokere-i-mottak---integreringsloven/",["typical_duration","prerequisites"],"Plikt fra 18 år til 175 timer norsk og 25 timer samfunnskunnskap; unntak for ankomst-/transittmottak, etter vedtak fra UDI, hurtigprosedyrer, nektet realitetsbehandling og kollektiv beskyttelse."),
 S("KS: Flyktningers rett til norskopplæring og introduksjonsprogram","https://www.ks.no/fagomrader/innvandring-og-integrering/krigen-i-ukraina/flyktningers-rett-til-norskopplaring-og-introduksjonsprogram-fra-kommunene/",["responsible_actor","legal_basis"],"Plikten følger av § 5; kommunen skal tilby inntil 175 timer til asylsøkere i mottak i kommunen."),
 s(LOVPDF,["info_url"],"Lovdata-ID-en er integreringsloven (§ 5 Plikt til å delta i opplæring i mottak)."),
],{"typical_duration":"175 timer norsk og 25 timer samfunnskunnskap; mer i fulltidsprogrammet i integreringsmottak.",
   "prerequisites":{"min_cefr":None,"text":"Asylsøker fra 18 år som bor i mottak. Gjelder ikke i ankomstsenter eller transittmottak, etter at UDI har fattet vedtak (avslag eller innvilgelse), i hurtigprosedyrer, ved nektet realitetsbehandling, og ikke for personer i målgruppen for kollektiv beskyttelse."}})

PROVE=("prove.hkdir.no: For deg som skal ta prøve","https://prove.hkdir.no/nn-NO")
add("norskprove",[
 S("Familieportalen (UD): Krav om norskprøve for opptak til høyere utdanning","https://familieportalen.mfa.no/aktuelt/krav-om-norskprove-for-opptak-til-hoyere-utdanning-i-norge/",["responsible_actor"],"Kommunen plikter å sørge for tilbud om å avlegge prøver for alle som er folkeregistrert der."),
 S("HK-dir: For deg som jobber med prøver","https://hkdirweb-dev.azurewebsites.net/for-deg-som-jobber-med-prover",["legal_basis"],"Integreringsloven definerer hvem som har rett og plikt til opplæring og til å ta prøver; HK-dir forvalter prøvene (kilden er en testside fra HK-dir)."),
 S("Oslo VO: Norskprøve","https://felles.oslovo.no/prover/norskproven/norskprove/",["financing"],"Personer med rett (og plikt) til opplæring kan ta norskprøven gratis én gang."),
 S("Lødingen kommune: Prøver","https://www.lodingen.kommune.no/tjenester/oppvekst-og-utdanning/skole-og-utdanning/voksenopplaring/prover/",["typical_duration","financing"],"Skriftlig og muntlig prøve på ulike datoer, flere perioder i året; pris 600 kr, gratis ved rett (2019)."),
 s(PROVE,["info_url"],"Prøvesiden for norskprøven, samfunnskunnskapsprøven og statsborgerprøven."),
])
add("samfunnskunnskapsprove",[
 S("Familieportalen (UD): Krav om norskprøve for opptak til høyere utdanning","https://familieportalen.mfa.no/aktuelt/krav-om-norskprove-for-opptak-til-hoyere-utdanning-i-norge/",["responsible_actor"],"Kommunen skal sørge for tilbud om å avlegge prøver."),
 S("HK-dir: For deg som jobber med prøver","https://hkdirweb-dev.azurewebsites.net/for-deg-som-jobber-med-prover",["legal_basis"],"Integreringsloven regulerer rett og plikt til å ta prøvene."),
 S("Lunner kommune: Prøve i samfunnskunnskap og statsborgerprøven","https://lunner.kommune.no/proeve-i-samfunnskunnskap-og-statsborgerproeven.6391955-565240.html",["financing"],"Gratis første gang for alle med rett og plikt; 800 kr for privatister."),
 S("Lødingen kommune: Prøver","https://www.lodingen.kommune.no/tjenester/oppvekst-og-utdanning/skole-og-utdanning/voksenopplaring/prover/",["typical_duration"],"Samfunnskunnskapsprøven holdes på enkeltdager flere ganger i året."),
 s(PROVE,["info_url"],"Prøvesiden omtaler samfunnskunnskapsprøven."),
])
add("statsborgerprove",[
 S("UDI: Endringer i krav til norskkunnskaper for å få norsk statsborgerskap","https://udi.no/viktige-meldinger/endrede-krav-til-norskkunnskaper-for-a-fa-norsk-statsborgerskap/",["legal_basis","prerequisites"],"Fra 1.10.2022 kreves muntlig B1 (A2 for enkelte grupper) og bestått statsborgerprøve eller samfunnskunnskapsprøve på norsk."),
 S("UDI: Prøve i norsk muntlig for å få norsk statsborgerskap","https://www.udi.no/ord-og-begreper/prove-i-norsk-muntlig-for-a-fa-norsk-statsborgerskap/",["prerequisites"],"Kravet gjelder søkere 18–67 år; B1 ved søknad fra 1.10.2022, ellers A2."),
 S("Lunner kommune: Prøve i samfunnskunnskap og statsborgerprøven","https://lunner.kommune.no/proeve-i-samfunnskunnskap-og-statsborgerproeven.6391955-565240.html",["financing"],"Statsborgerprøven er ikke gratis (800 kr)."),
 S("Lødingen kommune: Prøver","https://www.lodingen.kommune.no/tjenester/oppvekst-og-utdanning/skole-og-utdanning/voksenopplaring/prover/",["typical_duration","financing"],"Prøven varer maks 60 minutter på én dato; alle kandidater må betale."),
 S("prove.hkdir.no: Statsborgarprøve","https://prove.hkdir.no/nn-NO/statsborgarprove",["info_url"],"Prøvesiden for statsborgerprøven."),
])
add("sprakpraksis",[
 S("Askøy kommune: Introduksjonsprogram","https://askoy.kommune.no/barnevern-bolig-og-sosiale-tjenester/flyktninger-og-inkludering/introduksjonsprogram",["responsible_actor"],"Språkpraksisplass inngår i kommunens introduksjonsprogram, i samarbeid med voksenopplæring, NAV og næringsliv."),
 s(LOVPDF,["legal_basis"],"§ 14 a heter «Innholdet i introduksjonsprogrammet» (at språkpraksis er nevnt der, ses ikke)."),
 s(UDI_IMB,["legal_basis","livelihood"],"Fulltidsprogrammet i integreringsmottak inneholder språktrening (praksisplass); beboerne har vanlige mottaksytelser."),
 s(IMDI_STONAD,["livelihood"],"Deltakere i introduksjonsprogrammet får introduksjonsstønad."),
 S("IMDi: Fagressurs – Arbeid på deltid","https://introduksjonsprogrammet.imdi.no/innhold/arbeid-pa-deltid",[],"Fagressursen på introduksjonsprogrammet.imdi.no/innhold/ finnes; selve språkpraksis-siden er ikke sett (info_url uavklart)."),
])
add("introduksjonsprogram",[
 S("IMDi: Veileder til integreringsloven kap. 6 Introduksjonsprogram","https://www.imdi.no/regelverk/integreringsloven/veileder-til-integreringsloven/6.-introduksjonsprogram",["responsible_actor","info_url"],"Kommunen har ansvaret etter § 12 for målgruppen i § 8; deltakere har rett til stønad."),
 S("IMDi: Juridisk veileder kap. 4 Introduksjonsprogrammet","https://www.imdi.no/kvalifisering/regelverk/juridisk-veileder-til-integreringsloven/kapittel-4-introduksjonsprogrammet/",["legal_basis","prerequisites"],"§ 8: 18–55 år ved innvilget tillatelse etter § 9, bosatt etter avtale, under to år i kommunen når vedtak treffes."),
 s(LOVPDF,["legal_basis"],"§§ 12–15 gjelder ansvar, samordning, programmet for de to utdanningsgruppene, innhold og integreringsplan."),
 s(VEIV,["financing"],"Integreringstilskuddet skal blant annet finansiere introduksjonsprogram og -stønad."),
 s(IMDI_STONAD,["livelihood"],"2G på årsbasis; under 25 år: 2/3 hvis de ikke bor med foreldre, 1/3 hvis de bor med foreldre; skattepliktig."),
 S("Prop. 101 L (2023–2024) kap. 5","https://regjeringen.no/no/dokumenter/prop.-101-l-20232024/id3037628/?ch=5",["livelihood"],"Mange deltakere trenger supplerende sosialhjelp."),
])
add("fulltidsprogram-integreringsmottak",[
 s(UDI_IM,["responsible_actor","prerequisites"],"Kommunen har hovedansvaret for å lage fulltidsprogrammet; frivillig tilbud man må søke om; for dem med tillatelse eller stor sannsynlighet for det."),
 s(UDI_IMB,["livelihood","prerequisites"],"Samme økonomiske ytelser som i ordinære mottak, gratis kollektivtransport og barnepass; man bekrefter deltakelse og får kontrakt med kommunen."),
 S("UDI: Regelverk for drift av asylmottak – integreringsmottak","https://www.udi.no/asylmottak/regelverk-for-drift-av-asylmottak2/regelverk-for-drift-av-asylmottak/integreringsmottak/",[],"UDI har egne kravspesifikasjoner og rutiner for integreringsmottak (kobling til §§ 5–7 ikke sett)."),
 S("IMDi: Tilskudd til kvalifisering for beboere i integreringsmottak (2019)","https://www.imdi.no/tilskudd/tilskudd-til-kvalifisering-for-beboere-i-integreringsmottak/",[],"IMDi-tilskudd finansierte fulltidsprogrammet i 2019; dagens finansiering ikke bekreftet."),
],{"info_url":"https://udi.no/asylmottak/bor-eller-onsker-a-bo-i-et-asylmottak/integreringsmottak/"})
add("arbeidsmarkedsopplaering-amo",[
 s(NAV_R,["responsible_actor","legal_basis"],"Tiltaksforskriften kap. 7 Opplæring (omarbeidet 1.7.2025); tiltak tildeles etter behovs- eller arbeidsevnevurdering."),
 s(NAV_EN,["livelihood","typical_duration","prerequisites"],"AMO inntil ti måneder, kan forlenges seks måneder i visse tilfeller; minst 19 år; man beholder ytelsen sin, ellers mulig egen ytelse (min_cefr ikke bekreftet; siden kan være eldre enn 2025-endringen)."),
])
add("arbeidstrening",[
 S("NAV: Arbeidstrening","https://www.nav.no/no/person/arbeid/oppfolging-og-tiltak-for-a-komme-i-jobb/tiltak-for-a-komme-i-jobb/arbeidsutproving/arbeidstrening",["responsible_actor","financing","livelihood","typical_duration","prerequisites"],"Inntil ett år (+6 mnd ved nedsatt arbeidsevne); beholder ytelse, ellers mulig tiltakspenger; arbeidsgiver kan få inkluderingstilskudd; vurderes med NAV-veileder."),
])
add("midlertidig-lonnstilskudd",[
 S("NAV: Midlertidig lønnstilskudd (for arbeidsgivere)","https://nav.no/arbeidsgiver/midlertidig-lonnstilskudd",["responsible_actor","livelihood","typical_duration","prerequisites","info_url"],"40 % i inntil seks måneder, deretter 30 %; ved nedsatt arbeidsevne 60 % i inntil ett år, deretter 50 %; maks ett år (to ved nedsatt arbeidsevne); ordinær lønn; NAV vurderer behovet."),
],{"financing":"Nav dekker 40 % av lønnskostnadene i inntil seks måneder, deretter 30 %; for personer med nedsatt arbeidsevne 60 % i inntil ett år, deretter 50 %."})
add("nav-utdanning-som-tiltak",[
 s(NAV_R,["responsible_actor","legal_basis","info_url"],"Rundskrivet gjelder FOR-2015-12-11-1598 (tiltaksforskriften), kap. 7 Opplæring."),
 s(NAV_EN,["livelihood","typical_duration","prerequisites"],"Støtte til ordinær utdanning er begrenset til tre år; minst 19 år for fag- og yrkesopplæring; beholder ytelser under tiltaket."),
 S("Dagsavisen: Det skal bli enklere å gjøre fagarbeidere av folk i Nav-køen (2019)","https://www.dagsavisen.no/innenriks/det-skal-bli-enklere-a-gjore-fagarbeidere-av-folk-i-nav-koen-1.1550576",["typical_duration"],"Maks tre år, i noen tilfeller ett ekstra år for å sikre fagbrev."),
])
add("kvalifiseringsprogrammet",[
 S("SSB: Kvalifiseringsprogrammet (KVP)","https://www.ssb.no/ajax/ordforklaring?key=359689&sprak=no",["legal_basis"],"Programmet følger av sosialtjenesteloven § 29 og gir rett til kvalifiseringsstønad."),
 S("Prop. 12 L (2018–2019) kap. 3","https://regjeringen.no/no/dokumenter/prop.-12-l-20182019/id2618154/?ch=3",["responsible_actor","financing","prerequisites"],"Lovpålagt kommunal oppgave ved NAV-kontoret, finansiert via rammetilskuddet; for personer med vesentlig nedsatt arbeids- og inntektsevne og ingen/små ytelser."),
 S("NAV: Kvalifiseringsprogrammet (for kommunen)","https://www.nav.no/no/nav-og-samfunn/samarbeid/for-kommunen/kvalifiseringsprogrammet2",["livelihood"],"Stønad 2G, 2/3 under 25 år, barnetillegg, bostøtte."),
 S("Statsforvalteren i Agder: Endringer knyttet til kvalifiseringsprogrammet","https://www.fylkesmannen.no/agder/helse-omsorg-og-sosialtjenester/Kvalifiseringsprogrammet/endringer-knyttet-til-kvalifiseringsprogrammet/",["prerequisites"],"Fra 1.1.2019: nedre aldersgrense 18 år; inntil to år, unntaksvis forlengelse inntil ett år."),
],{"typical_duration":"Inntil to år; kan unntaksvis forlenges med inntil ett år (regler fra 1. januar 2019)."})
add("jobbsjansen",[
 S("IMDi: Tilskuddsmidler til Jobbsjansen 2026","https://www.imdi.no/tilskudd/jobbsjansen",["responsible_actor","legal_basis","financing","livelihood","typical_duration","prerequisites","info_url"],"Tilskudd fra IMDi til kommuner; hjemmeværende innvandrerkvinner 18–55 år; ikke KVP; tidligere introdeltakere etter to år; inntil 2+1 år, +1 år ved manglende lese-/skriveferdigheter."),
 S("MiKA: Jobbsjansen formidler arbeidskraft","https://www.mika.no/temaer/arbeids/jobbsjansen",["livelihood"],"I praksis mottar deltakeren en stønad i stedet for lønn."),
])
add("grunnskoleopplaering-for-voksne",[
 S("Ot.prp. nr. 57 (2004–2005) kap. 6","https://regjeringen.no/no/dokumenter/otprp-nr-57-2004-2005-/id397940/?ch=6",["responsible_actor","legal_basis"],"Kommunen har ansvaret for grunnskoleopplæring for voksne etter tidligere § 4A-1."),
 s(PROP57,["legal_basis","prerequisites"],"Ny lov bruker «førebuande opplæring for vaksne»; voksen = over grunnskolepliktig alder, normalt 16 år."),
 s(HKDIR_MOD,["legal_basis"],"Ny opplæringslov fra august 2024; kap. 18 om voksnes rett."),
 s(LK_FS,["livelihood"],"Flyktninger uten introduksjonsstønad kan få flyktningstipend til grunnskole."),
 S("Udir: Modulstrukturerte læreplaner for voksne","https://www.udir.no/laring-og-trivsel/lareplanverket/modulstrukturert/",[],"FOV erstatter grunnskole for voksne fra 1.8.2024 – dette tilbudet overlapper nå med FOV."),
])
add("forberedende-opplaering-for-voksne-fov",[
 S("Ot.prp. nr. 57 (2004–2005) kap. 6","https://regjeringen.no/no/dokumenter/otprp-nr-57-2004-2005-/id397940/?ch=6",["responsible_actor"],"Kommunen har ansvaret for opplæring på grunnskolenivå for voksne (FOV viderefører dette)."),
 s(HKDIR_MOD,["legal_basis"],"Kap. 18 deler voksnes opplæring i FOV og videregående for voksne; moduler gir kompetansebevis."),
 S("Udir: Høring av læreplaner i modulstrukturert opplæring for voksne","https://www.udir.no/laring-og-trivsel/lareplanverket/forsok-og-pagaende-arbeid/horing-av-lareplaner-i-modulstrukturert-opplaring-for-voksne/",["legal_basis"],"HK-dir utvikler læreplaner og vurderingsordninger i FOV."),
 S("HK-dir: Hva er forberedende opplæring for voksne?","https://hkdir.no/voksenopplaering/modulstrukturert-opplaering-for-voksne/hva-er-forberedende-opplaering-for-voksne",["prerequisites","info_url"],"For voksne som trenger opplæring under videregående nivå; de med videregående eller høyere følger læreplanen i norsk og samfunnskunnskap."),
 S("Lånekassen: Ny i Norge","https://lanekassen.no/nb-NO/laresteder/veiledning/ny-i-norge/",["livelihood"],"Lånekassen omtaler støtte til elever i forberedende opplæring."),
])
add("videregaende-opplaering-for-voksne",[
 S("Udir-2-2008 Voksnes rett til videregående opplæring","https://www.udir.no/regelverkstolkninger/opplaring/Voksne/Udir-2-2008/?depth=0&print=1",["responsible_actor","legal_basis"],"Fylkeskommunen har ansvaret; tidligere § 4A-3 gav rett fra året man fyller 25 år."),
 s(HKDIR_MOD,["legal_basis"],"Ny lov kap. 18 omfatter videregående opplæring for voksne (paragrafnummer 18-3 ikke sett)."),
 s(ROGFK,["financing","prerequisites"],"Gratis med voksenrett (man betaler selv skolemateriell); krav om fullført grunnskole eller tilsvarende og lovlig opphold."),
 s(LK_FS,["livelihood"],"Flyktninger uten introduksjonsstønad kan få flyktningstipend til videregående."),
 S("Vilbli: Høyere utdanning på grunnlag av realkompetanse","https://www.vilbli.no/nb/ckb/no/hoyere-utdanning-pa-grunnlag-av-realkompetanse/a/036850",["info_url"],"vilbli.no er informasjonsportal for videregående opplæring."),
])
add("modulstrukturert-fag-og-yrkesopplaering",[
 S("Udir: Modulstrukturerte læreplaner for voksne","https://www.udir.no/laring-og-trivsel/lareplanverket/modulstrukturert/",["legal_basis"],"13 lærefag er delt i moduler for voksne fra 1.8.2024; samme sluttkompetanse."),
 S("Udir-2-2008 Voksnes rett til videregående opplæring","https://www.udir.no/regelverkstolkninger/opplaring/Voksne/Udir-2-2008/?depth=0&print=1",["responsible_actor"],"Fylkeskommunen har ansvaret for videregående opplæring for voksne."),
 s(ROGFK,["financing"],"Videregående opplæring for voksne med rett er gratis."),
 S("Kompetanse Norge: Modulisert fag- og yrkesopplæring","https://www.kompetansenorge.no/Norsk-og-samfunnskunnskap/forberedende-voksenopplaring-fvo/modulisert-fag--og-yrkesopplaring/",["prerequisites"],"Målgruppen er voksne med fullført grunnskole eller tilsvarende (min_cefr ikke bekreftet)."),
 s(HKDIR_MOD,["prerequisites","info_url"],"Deltakere med behov for norskopplæring får norsk og fag parallelt."),
])
add("fagbrev-pa-jobb",[
 S("Innlandet fylkeskommune: Fagbrev på jobb","https://innlandetfylke.no/tjenester/skole-og-utdanning/opplaring-for-voksne/fagbrev-pa-jobb/",["typical_duration","livelihood","prerequisites"],"Kontrakt 12–36 måneder, i snitt 18; ordinær lønn; over 25 år, minst 80 % stilling og ett års praksis."),
 S("Trøndelag fylkeskommune: Fagbrev på jobb","https://www.trondelagfylke.no/vare-tjenester/utdanning/Opplaering_i_bedrift/Andre-veier-til-fag-svennebrev/fagbrev-pa-jobb/",["responsible_actor","financing","prerequisites"],"Kontrakten godkjennes av fylkeskommunen; ordinær lønn; grunnskole, ett års praksis, godkjent lærebedrift, tverrfaglig Vg3-eksamen."),
 S("Akershus fylkeskommune: Fagbrev på jobb","https://www.akershus.no/ansvarsomrader/opplering/opplering-i-bedrift/fagbrev-som-voksen/fagbrev-pa-jobb/",["prerequisites"],"I særlige tilfeller ned til 50 % stilling; over fem års praksis gir praksiskandidatveien (B1 ikke bekreftet)."),
])
add("praksiskandidatordningen",[
 S("Hedmark fylkeskommune: Praksiskandidat","https://www.hedmark.org/Om-fylkeskommunen/Videregaaende-opplaering/Praksiskandidat",["responsible_actor","legal_basis","financing","prerequisites"],"Tidligere opplæringslova § 3-5; praksis 25 % lengre enn læretiden, vanligvis fem år; Vg3-eksamen som privatist; prøveavgift; fylket godkjenner."),
 S("Oslo kommune: Fagbrev som praksiskandidat","https://www.oslo.kommune.no/skole-og-utdanning/fagopplaring/fagbrev-som-voksen/fagbrev-som-praksiskandidat/",["prerequisites"],"Utenlandsk praksis kan godskrives; teorieksamen er skriftlig på norsk og krever norsk fagspråk."),
 S("Matbransjen: Praksiskandidatordningen","http://www.matbransjen.no/voksenopplaering/ulike-veier-til-fag-svennebrev/praksiskandidatordningen/",["typical_duration","financing"],"Ingen læretid (dokumentasjonsordning); forberedende kurs betales av bedrift/kandidat."),
])
add("realkompetansevurdering-videregaende",[
 s(UDIR_RKV,["responsible_actor","legal_basis","financing"],"Voksne med rett til videregående har rett til gratis realkompetansevurdering (tidligere § 4A-3); fylkeskommunen har ansvaret."),
 S("Udir: Realkompetansevurdering av voksne (regelverkstolkning)","https://www.udir.no/regelverkstolkninger/opplaring/Voksne/ber-om-klargjoring---realkompetansevurdering-av-voksne/",["financing"],"De uten voksenrett kan også vurderes, men må da være forberedt på å betale selv med mindre NAV/kommunen henviser."),
],{"prerequisites":{"min_cefr":None,"text":"Voksen med rett til videregående opplæring (fra det året man fyller 25 år etter tidligere regelverk). Det er ingen individuell rett til å bli vurdert på andre språk enn norsk og samisk; fylkeskommunen kan likevel tilby det."}})
add("generell-studiekompetanse-23-5",[
 S("Samordna opptak: 23/5-regelen","https://www.samordnaopptak.no/info/opptak/generell-studiekompetanse/23-5-regelen/",["prerequisites","typical_duration","info_url"],"23 år i opptaksåret, seks studiekompetansefag (tilsvarer ett år i videregående), fem års praksis/utdanning."),
 S("utdanning.no: 23/5-regelen","https://utdanning.no/tema/nyttig_informasjon/235-regelen",["responsible_actor"],"De fleste fylker tilbyr opplæring i fagene for voksne; regjeringen har foreslått at regelen erstattes av 23/6 fra 2027."),
 S("utdanning.no (nynorsk): 23/5-regelen","https://utdanning.no/nn/tema/nyttig_informasjon/235-regelen",["prerequisites"],"Introduksjonsprogram kan telle med i praksiskravet (norskkrav B1/B2 ikke bekreftet)."),
 S("NOU 2022: 17 kap. 2 Dagens opptaksregelverk","https://www.regjeringen.no/no/dokumenter/nou-2022-17/id2948927/?ch=4",["legal_basis"],"23/5-regelen står i opptaksforskriften."),
])
add("fagskoleutdanning",[
 S("NOKUT: Hvilke opptakskrav kan en fagskoleutdanning ha?","https://www.nokut.no/fagskule--hogare-yrkesfagleg-utdanning/regelverk-for-fagskoler/hvilke-opptakskrav-kan-en-fagskoleutdanning-ha/",["legal_basis","prerequisites"],"Fagskoleloven § 16: fullført og bestått videregående eller tilsvarende realkompetanse."),
 S("NOKUT: Unntak fra 23-årsgrensa for realkompetansevurdering","https://www.nokut.no/norsk-utdanning/fagskole/regelverk-for-fagskoler/for-kunstfaglige-utdanninger-mulighet-til-a-gjore-unntak-fra-23-arsgrensa-for-realkompetansevurdering/",["legal_basis","prerequisites"],"Realkompetanse normalt fra 23 år (fagskoleloven § 16, fagskoleforskriften § 8)."),
 S("Innst. 289 L (2017–2018) om fagskoleloven","https://www.stortinget.no/no/Saker-og-publikasjoner/Publikasjoner/Innstillinger/Stortinget/2017-2018/inns-201718-289l/?all=true",["typical_duration"],"Fagskoleutdanning har et omfang fra et halvt til tre studieår."),
 s(LK_FS,["livelihood"],"Flyktninger kan få stipend og lån til fagskole på samme vilkår som norske statsborgere."),
],{"typical_duration":"Fra et halvt til tre studieår (30–180 studiepoeng), avhengig av utdanningen."})
add("opptak-hoyere-utdanning-norskkrav",[
 S("Samordna opptak: Krav til norsk og engelsk (utdanning fra Nepal)","http://www.samordnaopptak.no/info/utenlandsk_utdanning/nepal/krav-til-norsk-og-engelsk-for%20hoyere_utdannning/",["prerequisites"],"Norsk kan dekkes med Vg3-norsk (393 timer), Bergenstesten, trinn 3, 60 sp norsk eller Norskprøven B2 i alle fire delprøver."),
 S("Lovdata: Forskrift om opptak til høgre utdanning","https://lovdata.no/dokument/SF/forskrift/2017-01-06-13",["legal_basis"],"Forskriften er gitt med hjemmel i universitets- og høyskoleloven og krever normalt generell studiekompetanse."),
 S("Kompetanse Norge: Norskprøven ved opptak til høyere utdanning","https://www.kompetansenorge.no/prover/norskproven-ved-opptak-til-hoyere-utdanning/",["prerequisites"],"B2 på alle fire delprøver er nok; omregnes til karakter 4 (søknadsfristene ikke bekreftet)."),
])
add("opptak-realkompetanse-hoyere-utdanning",[
 S("Samordna opptak: Universitet og høgskole – Realkompetanse","https://www.samordnaopptak.no/info/opptak/opptak-uhg/andre-veier-til-opptak/realkompetanse/index.html",["responsible_actor","typical_duration","prerequisites"],"Minst 25 år i opptaksåret, mangler GSK; lærestedet avgjør; frist 1. mars."),
 S("Nord universitet: Realkompetanse","https://www.nord.no/no/studier/opptak/realkompetanse",["prerequisites"],"Søkere må dokumentere norsk og engelsk; frist 1. mars, dokumentasjon 20. mars."),
 S("Vilbli: Høyere utdanning på grunnlag av realkompetanse","https://www.vilbli.no/nb/ckb/no/hoyere-utdanning-pa-grunnlag-av-realkompetanse/a/036850",["responsible_actor"],"Lærestedet vurderer selv kvalifikasjonene opp mot faget."),
],{"info_url":"https://www.samordnaopptak.no/info/opptak/opptak-uhg/andre-veier-til-opptak/realkompetanse/index.html"})
add("godkjenning-utenlandsk-utdanning",[
 S("HK-dir: Om godkjenning av høyere utdanning","https://hkdir.no/utdanning-fra-utlandet/jeg-har-utdanning-fra-utlandet/sok-godkjenning-av-hoyere-utdanning-bachelor-master-ph-d/om-godkjenning-av-hoyere-utdanning",["responsible_actor"],"HK-dir gir frivillig generell godkjenning som likestiller nivå og omfang, ikke faglig innhold."),
 S("Prop. 126 L (2022–2023) kap. 13","https://regjeringen.no/no/dokumenter/prop.-126-l-20222023/id2984933/?ch=13",["legal_basis"],"Universitets- og høyskoleloven skiller generell og faglig godkjenning; HK-dir har ansvaret for generell godkjenning."),
 S("Ot.prp. nr. 83 (2007–2008) kap. 3","https://regjeringen.no/no/dokumenter/otprp-nr-83-2007-2008-/id527402/?ch=3",["legal_basis"],"Lisboakonvensjonen gjelder i Norge fra 1999."),
 S("NOKUT: Generell godkjenning av høyere utdanning","http://www.nokut.no/Utdanning-fra-utlandet/NOKUTs-generelle-godkjenning/",["typical_duration"],"Vanligvis om lag to måneder fra alle dokumenter er mottatt (opp mot fire i en overgang); ordningen er nå hos HK-dir."),
],{"info_url":"https://hkdir.no/utdanning-fra-utlandet/jeg-har-utdanning-fra-utlandet/sok-godkjenning-av-hoyere-utdanning-bachelor-master-ph-d/om-godkjenning-av-hoyere-utdanning"})
add("uvd-ordningen",[
 S("NOKUT: Sakkyndige – UVD-ordningen","https://www.nokut.no/utdanning-fra-utlandet/Godkjenningsordning-for-personer-uten-verifiserbar-dokumentasjon/Sakkyndige-UVD/",["responsible_actor"],"Vedtak bygger på en sakkyndig komité (to fagpersoner og én fra godkjenningsmyndigheten) med intervju av søkeren."),
 S("NOKUT: Avdeling for utenlandsk utdanning har flyttet til HK-dir","https://www.nokut.no/utdanning-fra-utlandet/avdeling-for-utenlandsk-utdanning-flytter-til-hk-dir/",["responsible_actor"],"Godkjenningsordningene ble overført til HK-dir 1.1.2023 med uendrede krav."),
])
add("autorisasjon-lovregulerte-yrker",[
 S("NOKUT: Lovregulerte yrker","https://www.nokut.no/utdanning-fra-utlandet/autorisasjonlovregulerte-yrker/",["responsible_actor"],"For lovregulerte yrker kreves autorisasjon/godkjenning fra det godkjenningskontoret som har ansvar for yrket."),
 S("Altinn: Godkjenning av yrkeskvalifikasjoner","https://www.altinn.no/godkjenning-av-yrkeskvalifikasjoner/",["responsible_actor"],"161 lovregulerte yrker godkjennes av 15 godkjenningskontorer."),
 S("Forskrift om godkjenning av yrkeskvalifikasjoner (gjengitt)","https://trafikksiden.motocross.io/regelverk/relaterte/yrkeskvalifikasjoner_godkjenning.html",["legal_basis"],"Forskriften er gitt med hjemmel i yrkeskvalifikasjonsloven (lov 16. juni 2017 nr. 69)."),
 S("utdanning.no: Kompletterende utdanning","https://utdanning.no/tema/kompletterende_utdanning",[],"Helsedirektoratet stiller strengere norskkrav for autorisasjon enn for opptak (nivå ikke oppgitt; min_cefr uavklart)."),
])
add("kompletterende-utdanning",[
 S("utdanning.no: Kompletterende utdanning","https://utdanning.no/tema/kompletterende_utdanning",["responsible_actor","prerequisites","info_url"],"Tilbys ved OsloMet, HVL, NTNU, VID m.fl. for sykepleier, lærer, ingeniør, bioingeniør; lærer/sykepleier minst to år, ingeniør bachelor; Helsedirektoratet må først vurdere sykepleiere/bioingeniører; flyktninger prioriteres."),
 S("OsloMet: Opptak til kompletterende utdanninger","https://www.oslomet.no/studier/soknad-og-opptak/opptak-kompletterende-utdanninger",["prerequisites"],"Lærere må først få godkjenning fra Udir (etter generell godkjenning); søkere med fluktbakgrunn prioriteres."),
])
add("lanekassen-stotte",[
 s(LK_FS,["responsible_actor","financing","prerequisites"],"Flyktninger som ikke får introduksjonsstønad kan få flyktningstipend til grunnskole/videregående i inntil tre år, alt som stipend; høyere utdanning på samme vilkår som nordmenn."),
 S("Lånekassen: Flere mottar flyktningstipend","https://lanekassen.no/nb-NO/presse-og-samfunnskontakt/nyheter/flere-mottar-flyktningstipend-fra-lanekassen/",["prerequisites"],"Flyktningstipend i inntil tre år innenfor seks år etter innvilget tillatelse."),
 S("Lånekassen: Gjer eleven klar for å søkje om lån og stipend","https://lanekassen.no/nn-NO/hovedmeny/for-larestedene/grunnskole/oppgaver/gjer-eleven-klar-for-a-sokje-om-stotte-i-lanekassen/",["prerequisites"],"Søkeren trenger normalt fødsels- eller D-nummer, MinID og bankkonto."),
],{"livelihood":"Støtten er livsoppholdet. Flyktninger som tar grunnskole eller videregående og ikke får introduksjonsstønad, kan få flyktningstipend der alt gis som stipend (unntatt tilleggslån og lån til skolepenger) i inntil tre år innenfor seks år etter tillatelsen. Til fagskole og høyere utdanning gis lån og stipend på samme vilkår som for norske statsborgere."})

missing=[k for k in byk if k not in R]; extra=[k for k in R if k not in byk]
assert not missing and not extra,(missing,extra)
out={k:R[k] for k in byk}
json.dump(out,open('/work/research/catalogue-sources.json','w'),ensure_ascii=False,indent=2)
conf=sum(len(set(f for x in v['sources'] for f in x['fields'])-set(v['corrections'])) for v in out.values())
corr=sum(len(v['corrections']) for v in out.values())
unc=sum(len(v['still_uncertain']) for v in out.values())
print(len(out),conf,corr,unc,conf+corr+unc)
# per-field
from collections import Counter
cc,cr,cu=Counter(),Counter(),Counter()
for v in out.values():
  c=set(f for x in v['sources'] for f in x['fields'])-set(v['corrections'])
  cc.update(c); cr.update(list(v["corrections"])); cu.update(v['still_uncertain'])
for f in FIELDS: print(f,cc[f],cr[f],cu[f])
print(sum(1 for v in out.values() if not v['sources']))
# attach corrected fields to the sources that support the correction
support={
 "kvalifiseringsprogrammet":[("Statsforvalteren","typical_duration")],
 "realkompetansevurdering-videregaende":[("Udir: Nasjonale","prerequisites")],
 "karriereveiledning-integreringsmottak":[("UDI: Integreringsmottak (for beboere)","info_url")],
 "fulltidsprogram-integreringsmottak":[("UDI: Integreringsmottak (for beboere)","info_url")],
 "tosprakstesten-og-tao":[("OsloMet: Kvalifiseringstilbud","info_url")],
 "opptak-realkompetanse-hoyere-utdanning":[("Samordna opptak","info_url")],
 "godkjenning-utenlandsk-utdanning":[("HK-dir: Om godkjenning","info_url")],
 "lanekassen-stotte":[("Lånekassen: Informasjon om flyktningstipend","livelihood")],
 "midlertidig-lonnstilskudd":[("NAV: Midlertidig","financing")],
}
for k,lst in support.items():
  for pre,f in lst:
    hit=[x for x in out[k]['sources'] if x['title'].startswith(pre)]
    assert hit,(k,pre)
    for x in hit:
      if f not in x['fields']: x['fields'].append(f)
for k,v in out.items():
  for f in v['corrections']:
    assert any(f in x['fields'] for x in v['sources']),(k,f)
json.dump(out,open('/work/research/catalogue-sources.json','w'),ensure_ascii=False,indent=2)
print("ok")
