package ocr

import (
	"slices"
	"testing"
)

// The samples are tesseract 5 readings (chi_sim) of rendered documents, with
// their typical noise: spaces between Han characters, curly quotes and specks
// between label and value, misread labels, columns run together.

func TestParseLicense(t *testing.T) {
	cases := []struct {
		name, text string
		want       LicenseFields
	}{
		{"two columns read across (psm 4)", `营业执照
统一社会信用代码                                                     4、
1
91350100M000100Y43                        例帮)
名       称 ”杭州井然食品贸易有限公司          注册 资本 壹佰万元整
突      型”有限责任公司                    成立目期 2019年05月20日
法定代表人 ”井然                          营业期限长期
经营 范围“一般项目 : 食品销售 (仪销售预包装     住      所 浙江省杭州市西湖区文三路
食品) ; 日用百货销售 ; 食用农产品                 90号东部软件园1号楼
`, LicenseFields{"杭州井然食品贸易有限公司", "91350100M000100Y43", "井然"}},
		{"noise above the title (psm 6)", `外         和
    [上
营业执照
统一社会信用代码                                人           ，
91350100M000100Y43                 和
名 。 称 ”成都天府软件园有限公司           注册 资 本 过全万元束
2      型 ”有限责任公司                   成立目期 2019年05月20日
法定代表人 王建国                              营业期限长其                   ，
登记机为
`, LicenseFields{"成都天府软件园有限公司", "91350100M000100Y43", "王建国"}},
		{"labels apart from values (psm 3)", `统一社会信用代码
91350100M000100Y43
各、本
娄 表
法定代表人
经营范围
杭州井然食品贸易有限公司
有限责任公司
井然
`, LicenseFields{"", "91350100M000100Y43", ""}},
		{"old style with full-width colons", `企业法人营业执照
统一社会信用代码：９１３５０１００Ｍ０００１００Ｙ４３
名称：杭州井然食品贸易有限公司
住所：浙江省杭州市西湖区文三路90号
法定代表人：井然
注册资本：壹佰万元整
`, LicenseFields{"杭州井然食品贸易有限公司", "91350100M000100Y43", "井然"}},
		{"every character spaced", "名 称 杭 州 井 然 食 品 贸 易 有 限 公 司\n法 定 代 表 人 井 然\n统 一 社 会 信 用 代 码 9 1 3 5 0 1 0 0 M 0 0 0 1 0 0 Y 4 3\n",
			LicenseFields{"杭州井然食品贸易有限公司", "91350100M000100Y43", "井然"}},
		{"sole proprietor without a trade name", `统一社会信用代码 92350102MA2Y1B2E09
名       称 ***
类       型 个体工商户
经  营  者 林小明                组成形式 个人经营
`, LicenseFields{"", "92350102MA2Y1B2E09", "林小明"}},
		{"sole proprietor with a trade name", "名称 福州市鼓楼区林记小吃店\n经营者 林小明\n",
			LicenseFields{"福州市鼓楼区林记小吃店", "", "林小明"}},
		{"partnership", `统一社会信用代码 91350100M000100Y43
名称 杭州井然投资合伙企业(有限合伙)
执行事务合伙人 杭州井然资产管理有限公司（委派代表：井然）
`, LicenseFields{"杭州井然投资合伙企业（有限合伙）", "91350100M000100Y43", "杭州井然资产管理有限公司（委派代表：井然）"}},
		{"branch", "名称 杭州井然食品贸易有限公司西湖分公司\n负责人 王五\n", LicenseFields{"杭州井然食品贸易有限公司西湖分公司", "", "王五"}},
		{"O and I read for 0 and 1 in the code", "统一社会信用代码 9135O1OOM0OO1OOY43\n", LicenseFields{USCC: "91350100M000100Y43"}},
		{"code in groups, lower case", "统一社会信用代码 9135 0100 m000 100y 43\n", LicenseFields{USCC: "91350100M000100Y43"}},
		{"code glued to a speck", "统一社会信用代码 |191350100M000100Y43\n", LicenseFields{USCC: "91350100M000100Y43"}},
		{"misread code kept for the user to correct", "统一社会信用代码 91350100M000100Y44\n", LicenseFields{USCC: "91350100M000100Y44"}},
		{"code without its label", "营业执照\n91350100M000100Y43\n", LicenseFields{USCC: "91350100M000100Y43"}},
		{"a label read as the next field's", "名称\n类型 有限责任公司\n", LicenseFields{}},
		{"nothing", "", LicenseFields{}},
		{"not a licence", "Lorem ipsum dolor sit amet\n\n\n", LicenseFields{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ParseLicense(c.text); got != c.want {
				t.Errorf("ParseLicense = %+v\nwant           %+v", got, c.want)
			}
		})
	}
}

func TestParsePortrait(t *testing.T) {
	cases := []struct {
		name, text string
		want       PortraitFields
	}{
		{"psm 6", `姓 名 林某某
性 别”男      民族 汉            4)
出 生，” 1990 年 3月7日
住 证 福建省福州市鼓楼区五四路      必
100号
公民身份呈吧“350102199003071234
`, PortraitFields{"林某某", "350102199003071234"}},
		{"labels on lines of their own (psm 11)", "姓 名\n\n林某某\n\n性\n\n别\n\n男\n\n公民身份号码\n\n350102199003071234\n", PortraitFields{"林某某", "350102199003071234"}},
		{"labels lost (psm 3)", "林某某\n男\n1990 年 3月了\n福建省福州市鼓楼区五四路\n100号\n民身份S码“350102199003071234\n", PortraitFields{"", "350102199003071234"}},
		{"speck after the name", "姓 名 林某某          必\n公民身份号码 350102199003071234", PortraitFields{"林某某", "350102199003071234"}},
		{"spaced digits and a lower-case x", "姓名 张伟\n公民身份号码 3501 0219 9003 0710 4x\n", PortraitFields{"张伟", "35010219900307104X"}},
		{"O and I read for 0 and 1", "公民身份号码 35O1O2I99OO3O71234\n", PortraitFields{"", "350102199003071234"}},
		{"misread digit kept for the user to correct", "公民身份号码 350102199003071235\n", PortraitFields{"", "350102199003071235"}},
		{"minority name", "姓名 阿卜杜拉•买买提\n", PortraitFields{"阿卜杜拉·买买提", ""}},
		{"full-width digits", "姓名：李娜\n公民身份号码：３５０１０２１９９００３０７１２３４\n", PortraitFields{"李娜", "350102199003071234"}},
		{"a leading speck read as a digit", "公民身份号码 5350102199003071234\n", PortraitFields{"", "350102199003071234"}},
		{"seventeen digits only", "公民身份号码 35010219900307123\n", PortraitFields{}},
		{"nothing", "\n\n", PortraitFields{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ParsePortrait(c.text); got != c.want {
				t.Errorf("ParsePortrait = %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestParseEmblem(t *testing.T) {
	cases := []struct {
		name, text string
		want       EmblemFields
	}{
		{"psm 6", `人 中华人民共和国
    牛民身份证
签发机关 ”福州市公安局鼓楼分局
有效期限 2015.03.01:2035.03.01
`, EmblemFields{"福州市公安局鼓楼分局", "2015-03-01", "2035-03-01"}},
		{"labels on lines of their own (psm 11)", "中华人民共和国\n\n签发机关\n\n福州市公安局鼓楼分局\n\n有效期限\n\n2015.03.01-2035.03.01\n", EmblemFields{"福州市公安局鼓楼分局", "2015-03-01", "2035-03-01"}},
		{"no end", "签 发 机 关 杭州市公安局西湖分局\n有 效 期 限 2008.11.20-长期\n", EmblemFields{"杭州市公安局西湖分局", "2008-11-20", "长期"}},
		{"spaces in the dates", "有效期限 2015 .03.01 - 2035.03 .01\n", EmblemFields{"", "2015-03-01", "2035-03-01"}},
		{"no separators", "有效期限 20150301-20350301\n", EmblemFields{"", "2015-03-01", "2035-03-01"}},
		{"full-width", "签发机关：福州市公安局\n有效期限：２０１５．０３．０１－２０３５．０３．０１\n", EmblemFields{"福州市公安局", "2015-03-01", "2035-03-01"}},
		{"dash read as a long one", "有效期限 2015.03.01—2035.03.01", EmblemFields{"", "2015-03-01", "2035-03-01"}},
		{"impossible date skipped", "有效期限 2015.02.30-2035.02.28\n", EmblemFields{"", "2035-02-28", ""}},
		{"label lost", "福州市公安局鼓楼分局\n2015.03.01-2035.03.01\n", EmblemFields{"", "2015-03-01", "2035-03-01"}},
		{"nothing", "", EmblemFields{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ParseEmblem(c.text); got != c.want {
				t.Errorf("ParseEmblem = %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	cases := []struct {
		text string
		want []string
	}{
		{"名 称 杭 州\n\n  类 型  有限责任公司  ", []string{"名称杭州", "类型有限责任公司"}},
		{"名       称 ”杭州井然          注册 资本 壹佰万元整", []string{"名称”杭州井然\t注册资本壹佰万元整"}},
		{"Ｍ０００１　ＡＢＣ：ｘ（１）", []string{"M0001 ABC：x（1）"}},
		{"ID 3501 0219\r\n", []string{"ID 3501 0219"}},
		{"\xff名\xfe称", []string{"名称"}},
	}
	for _, c := range cases {
		if got := normalize(c.text); !slices.Equal(got, c.want) {
			t.Errorf("normalize(%q) = %q, want %q", c.text, got, c.want)
		}
	}
}

func TestCheckCharacters(t *testing.T) {
	for s, want := range map[string]bool{
		"91350100M000100Y43": true,
		"92350102MA2Y1B2E09": true,
		"91350100M000100Y44": false,
		"91350100M000100Y4":  false,
		"91350100M0O0100Y43": false, // O is not in the alphabet
	} {
		if validUSCC(s) != want {
			t.Errorf("validUSCC(%q) = %v", s, !want)
		}
	}
	for s, want := range map[string]bool{
		"350102199003071234":  true,
		"35010219900307104X":  true,
		"35010219900307104x":  false,
		"350102199003071235":  false,
		"35010219900307123":   false,
		"3501021990030712345": false,
	} {
		if validIDNumber(s) != want {
			t.Errorf("validIDNumber(%q) = %v", s, !want)
		}
	}
}
